"""`PUT {upload_url}`: chunked media transfer for FILE_UPLOAD publishes (ref 10.1-10.3).

206 for an accepted chunk with more to come, 201 when the last byte is in, 400 for malformed
or inconsistent headers, 403 once the URL has expired, 404 for an unknown upload, 416 for a
range that does not follow the progress so far. Every answer carries the progress in
`Content-Range: bytes 0-{last byte received}/{total}` (`bytes */{total}` before any byte).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mock_server.api.http import (
    InjectedFault,
    apply_faults,
    broken_answer,
    new_log_id,
    note,
    sandbox,
)
from mock_server.domain import lifecycle
from mock_server.domain.media_rules import MAX_API_VIDEO_SECONDS, MediaCheck, VideoFacts
from mock_server.domain.publishing import Publish, cover_timestamp_ms
from mock_server.domain.upload import (
    ChunkRefused,
    act_out_upload_fault,
    check_chunk,
    progress_header,
)
from mock_server.responses import JSONResponse
from mock_server.runtime.covers import inspect_video
from mock_server.runtime.spool import ChunkLengthMismatch


def _answer(
    request: Request, status: int, publish: Publish | None, message: str = "", rule: str = ""
) -> Response:
    """The PUT answer: an empty body on success; on failure TikTok's error object (the
    reference does not document PUT bodies; see docs/fidelity.md)."""
    headers = {}
    if publish is not None and publish.video_size:
        headers["Content-Range"] = progress_header(publish)
    if status in (201, 206):
        note(request, error_code="ok", rule=rule or f"chunk_{status}")
        return Response(status_code=status, headers=headers)
    log_id = new_log_id(request)
    note(request, error_code="invalid_file_upload", rule=rule)
    body = {"error": {"code": "invalid_file_upload", "message": message, "log_id": log_id}}
    return JSONResponse(body, status_code=status, headers={**headers, "x-tt-logid": log_id})


async def put_chunk(request: Request) -> Response:
    state = sandbox(request)
    upload_id = request.query_params.get("upload_id", "")
    token = request.query_params.get("upload_token", "")
    with state.lock:
        world = state.world
        publish = world.publishes.get(world.uploads.get(upload_id, ""))
        if publish is None or publish.upload_token != token:
            return _answer(
                request, 404, None, "No upload task for this upload_url.", "upload_unknown"
            )
        creator = world.creator_by_uid(publish.creator_uid)
        note(request, client_key=publish.client_key, creator=creator.username if creator else None)
    faulted = await _injected_faults(request, publish)
    if faulted is not None:
        return faulted
    with state.lock:
        now = state.now()
        try:
            plan = check_chunk(publish, request.headers, now)
        except ChunkRefused as refused:
            return _answer(request, refused.status, publish, refused.message, refused.rule)
        if plan.repeat is None:
            publish.chunk_in_flight = True
    length = plan.last - plan.first + 1
    try:
        if plan.repeat is not None:
            digest = await state.spool.chunk_digest(request.stream(), length)
        else:
            digest = await state.spool.write_chunk(
                publish.publish_id, plan.first, length, request.stream(), world.generation
            )
    except BaseException as exc:
        # Nothing of the chunk is kept (a client that went away may send it again), and
        # whatever ended the body (a disconnect, a cancelled request, a full disk), the upload
        # takes chunks again.
        if plan.repeat is None:
            with state.lock:
                publish.chunk_in_flight = False
        if not isinstance(exc, ClientDisconnect | ChunkLengthMismatch):
            raise
        if isinstance(exc, ChunkLengthMismatch):
            message = f"Content-Length is {length} but the body carried {exc.received} bytes."
            return _answer(request, 400, publish, message, "body_length_mismatch")
        # No answer can reach a client that went away: the journal records the request as
        # such (499), with why the chunk was not kept, and the middleware's one log line
        # says which chunk it was.
        note(request, rule="client_disconnected")
        lost = f"bytes {plan.first}-{plan.last}/{publish.video_size} not kept"
        raise ClientDisconnect(lost) from exc
    if plan.repeat is not None:
        # ref 10.3 allows retrying a chunk: the identical chunk again is answered as before.
        if digest != plan.repeat:
            return _answer(
                request,
                416,
                publish,
                "This range was already received with different bytes.",
                "chunk_repeated_differently",
            )
        return _answer(
            request,
            201 if plan.last + 1 == publish.video_size else 206,
            publish,
            rule="chunk_repeated_identically",
        )
    with state.lock:
        publish.chunk_in_flight = False
        publish.chunks.append((plan.first, plan.last, digest))
        publish.uploaded_bytes = publish.received_bytes = plan.last + 1
        complete = publish.uploaded_bytes == publish.video_size
        max_seconds = lifecycle.video_duration_limit(state.world, publish)
    if not complete:
        return _answer(request, 206, publish)
    # Probing and decoding the cover frame take milliseconds to a tenth of a second: off the
    # event loop, so other requests are not held up.
    inspection = await anyio.to_thread.run_sync(
        inspect_video,
        state.spool.path(publish.publish_id, generation=world.generation),
        max_seconds,
        cover_timestamp_ms(publish),
        state.covers,
        publish.publish_id,
    )
    # checked: the bytes are not needed any more
    state.spool.discard_all(publish.publish_id, world.generation)
    note(request, media=media_note(inspection.facts, inspection.failed, max_seconds))
    with state.lock:
        if state.world is world:
            lifecycle.upload_complete(
                world, publish, inspection.fail_reason, state.now(), inspection.facts
            )
    return _answer(request, 201, publish)


def media_note(facts: VideoFacts, failed: MediaCheck | None, max_seconds: int) -> dict[str, object]:
    """What the journal keeps of the media check: the probed facts, the duration limit the
    check applied, and the first rule the file broke (with its fail_reason), if any."""
    return {
        "container": facts.container,
        "codec": facts.codec,
        "duration_s": facts.duration_s,
        "fps": facts.fps,
        "width": facts.width,
        "height": facts.height,
        "size_bytes": facts.size_bytes,
        "max_duration_s": min(max_seconds, MAX_API_VIDEO_SECONDS),
        "check": failed.rule if failed else None,
        "fail_reason": failed.fail_reason if failed else None,
    }


async def _injected_faults(request: Request, publish: Publish) -> Response | None:
    """Act out the fault rules that fire on this PUT: an answer in the server's place, or a
    change to the upload's state (lost progress, expired URL) before the chunk is judged."""
    state = sandbox(request)
    try:
        rules = await apply_faults(request, "upload", publish.client_key, publish.creator_uid)
    except InjectedFault as fault:
        with state.lock:
            for rule in fault.upload_rules:
                if rule.action != "chunk_5xx":
                    act_out_upload_fault(publish, rule.action, state.now())
        if fault.rule.action != "error":
            return broken_answer(fault.rule, b"")
        return _answer(
            request,
            fault.rule.status or 500,
            publish,
            fault.rule.message or "Injected fault.",
            f"fault:{fault.rule.rule_id}",
        )
    with state.lock:
        for rule in rules:
            if rule.action != "chunk_5xx":
                act_out_upload_fault(publish, rule.action, state.now())
        for rule in rules:
            if rule.action == "chunk_5xx":
                return _answer(
                    request,
                    rule.status or 503,
                    publish,
                    rule.message or "Injected fault: retry this chunk.",
                    f"fault:{rule.rule_id}",
                )
    return None
