"""Identifiers: deterministic from the seed, secrets unpredictable from each other."""

from __future__ import annotations

import math
import random
import re
import string

from mock_server.domain.ids import CountedRandom, IdFactory, moved


def random_bits(alphabet_size: int, length: int) -> float:
    return length * math.log2(alphabet_size)


def test_tokens_codes_and_upload_tokens_carry_at_least_128_random_bits() -> None:
    ids = IdFactory(0)
    token = re.fullmatch(r"(act|rft|clt)\.([A-Za-z0-9]{60})!\d{4}\.va", ids.access_token())
    assert token and random_bits(62, 60) >= 128
    code = re.fullmatch(r"([A-Za-z0-9_-]{200})\*v!\d{4}\.va", ids.auth_code())
    assert code and random_bits(64, 200) >= 128
    upload = ids.upload_token()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", upload)
    assert random_bits(16, 32) >= 128  # every hex digit is random (a UUID4 fixes 6 bits)
    assert re.fullmatch(r"[A-Za-z0-9]{32}", ids.client_secret())


def test_upload_tokens_use_every_hex_digit() -> None:
    ids = IdFactory(1)
    seen = {ids.upload_token()[14] for _ in range(200)}  # a UUID4's version digit is always 4
    assert len(seen) > 8


def test_the_same_seed_gives_the_same_sequence_and_another_seed_another() -> None:
    def run(seed: int) -> list[str]:
        ids = IdFactory(seed)
        return [ids.access_token(), ids.numeric_id(), ids.log_id(0), ids.upload_token()]

    assert run(7) == run(7)
    assert all(a != b for a, b in zip(run(7), run(8), strict=True))


def test_log_ids_do_not_shift_tokens_or_ids() -> None:
    # A refused request draws only a log id: what follows it is unchanged.
    quiet, busy = IdFactory(3), IdFactory(3)
    for _ in range(5):
        busy.log_id(0)
    assert [busy.access_token(), busy.numeric_id()] == [quiet.access_token(), quiet.numeric_id()]


def test_a_rewound_factory_draws_the_same_again() -> None:
    ids = IdFactory(5)
    mark = ids.checkpoint()
    first = [ids.client_secret(), ids.creator_uid(), ids.log_id(0)]
    ids.rewind(mark)
    assert [ids.client_secret(), ids.creator_uid(), ids.log_id(0)] == first


def test_secret_characters_are_spread_over_the_alphabet() -> None:
    ids = IdFactory(9)
    text = "".join(ids.client_secret() for _ in range(400))
    counts = [text.count(c) for c in string.ascii_letters + string.digits]
    expected = len(text) / 62
    assert min(counts) > expected * 0.6 and max(counts) < expected * 1.4


def test_log_ids_carry_the_utc_second_of_their_answer_whatever_the_order() -> None:
    ids, again = IdFactory(5), IdFactory(5)
    instants = [1767225600.0, 1767225600.9, 1767225601.2, 1767225599.5, 1767225601.0, -0.5]
    stamps = [
        "20260101000000",
        "20260101000000",
        "20260101000001",
        "20251231235959",
        "20260101000001",
        "19691231235959",
    ]
    drawn = [ids.log_id(t) for t in instants]
    assert [d[:14] for d in drawn] == stamps
    assert all(re.fullmatch(r"\d{14}[0-9A-F]{20}", d) for d in drawn)
    assert [again.log_id(t) for t in instants] == drawn  # same seed and clock, same ids


def _draws(rng: random.Random) -> tuple[object, ...]:
    """What the sandbox's code and Faker's providers call."""
    items = list(range(20))
    rng.shuffle(items)
    rng.seed(rng.random())
    return (
        items,
        rng.random(),
        rng.randrange(10**12),
        rng.choice("abcdef"),
        rng.sample(range(100), 5),
        rng.getrandbits(70),
        rng.randbytes(9),
        rng.gauss(0, 1),
        rng.uniform(1, 2),
    )


def test_a_counted_random_draws_what_random_draws_and_counts_every_move() -> None:
    plain, counted = random.Random(7), CountedRandom(7)
    assert _draws(plain) == _draws(counted)
    assert counted.getstate() == plain.getstate()

    # Whatever moves its state moves its fingerprint; reading it does not.
    seen = {moved(counted)}
    for move in (
        counted.random,
        lambda: counted.randrange(3),
        lambda: counted.getrandbits(8),
        lambda: counted.randbytes(2),
        lambda: counted.setstate(plain.getstate()),
        lambda: counted.seed(1),
    ):
        before = moved(counted)
        counted.getstate()
        assert moved(counted) == before
        move()
        assert moved(counted) != before
        seen.add(moved(counted))
    assert len(seen) == 7
    assert moved(plain) == plain.getstate()  # a plain generator: compared by its state
