"""Server-rendered HTML: the consent page, the authorize error page and the avatars.

Plain HTML and a little CSS, no JavaScript: the pages work in any browser and in tests that
drive a headless one. (The dashboard and the audit page are Jinja2 templates: `templating`.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from mock_server.domain.models import App, Creator
from mock_server.domain.scopes import REQUIRED_SCOPES, SCOPES
from mock_server.forms import FIELD

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f1f1f2;
margin:0;color:#161823}
main{max-width:760px;margin:32px auto;background:#fff;border-radius:12px;padding:28px 32px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.muted{color:#70727a;font-size:14px}.badge{display:inline-block;border-radius:4px;
padding:1px 6px;font-size:12px;background:#eee;margin-left:6px}
.sandbox{background:#fff3cd}.unaudited{background:#ffe0e6}.audited{background:#d8f5e3}
label.row{display:flex;gap:10px;align-items:flex-start;padding:8px 0;border-bottom:1px solid #eee}
.creator{display:flex;gap:10px;align-items:center}
.dot{width:28px;height:28px;border-radius:50%;display:inline-block}
.actions{display:flex;gap:12px;margin-top:24px}
button{font-size:15px;padding:10px 22px;border-radius:6px;border:1px solid #ccc;cursor:pointer}
button.primary{background:#fe2c55;color:#fff;border-color:#fe2c55}
.error{background:#ffe0e6;border-radius:8px;padding:12px 16px;margin:12px 0}
code{background:#f4f4f5;padding:1px 4px;border-radius:3px}
"""


def layout(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}"
        f"</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def _hidden(params: Mapping[str, str]) -> str:
    return "".join(
        f"<input type=hidden name='{escape(k)}' value='{escape(v)}'>" for k, v in params.items()
    )


def consent_page(
    app: App,
    scopes: Iterable[str],
    creators: Iterable[Creator],
    params: Mapping[str, str],
    *,
    form_token: str,
    selected: str | None = None,
    message: str | None = None,
) -> str:
    """The page a person sees at `/v2/auth/authorize/`: who is asking, for what, as whom."""
    scope_rows = []
    for scope in scopes:
        required = scope in REQUIRED_SCOPES
        lock = " disabled" if required else ""
        keep = f"<input type=hidden name=granted value='{escape(scope)}'>" if required else ""
        scope_rows.append(
            f"<label class=row><input type=checkbox name=granted value='{escape(scope)}' "
            f"checked{lock} data-scope='{escape(scope)}'>{keep}<span><code>{escape(scope)}</code>"
            f"<br><span class=muted>{escape(SCOPES.get(scope, ''))}"
            f"{' (required)' if required else ''}</span></span></label>"
        )
    creator_rows = []
    for creator in creators:
        target = app.stage == "sandbox" and creator.username in app.target_users
        checked = " checked" if creator.username == selected else ""
        creator_rows.append(
            f"<label class=row><input type=radio name=creator value='{escape(creator.username)}'"
            f"{checked} data-creator='{escape(creator.username)}'><span class=creator>"
            f"<span class=dot style='background:{escape(creator.avatar_color)}'></span><span>"
            f"<b>{escape(creator.nickname)}</b> <span class=muted>@{escape(creator.username)}"
            f"</span><span class=badge>{escape(creator.account)}</span>"
            f"{'<span class=badge>target user</span>' if target else ''}</span></span></label>"
        )
    notice = f"<div class=error role=alert>{escape(message)}</div>" if message else ""
    body = (
        f"<h1>{escape(app.name)} wants to access your TikTok account</h1>"
        f"<p class=muted>{escape(app.description)}<span class='badge {escape(app.stage)}'>"
        f"{escape(app.stage)} app</span></p>{notice}"
        "<form method=post action='/v2/auth/authorize/'>"
        f"{_hidden({**params, FIELD: form_token})}<h2>Log in as</h2>{''.join(creator_rows)}"
        f"<h2>{escape(app.name)} will be able to</h2>{''.join(scope_rows)}"
        "<div class=actions><button class=primary type=submit name=decision value=approve "
        "id=approve>Authorize</button><button type=submit name=decision value=deny id=deny>"
        "Cancel</button></div></form>"
        "<p class=muted>tiktok-sandbox: this consent page stands in for "
        "www.tiktok.com/v2/auth/authorize/.</p>"
    )
    return layout(f"Authorize {app.name}", body)


def authorize_error_page(error: str, error_type: str | None, description: str) -> str:
    """What TikTok's page shows when the request itself is wrong (nothing is redirected)."""
    kind = f" <code id=error-type>{escape(error_type)}</code>" if error_type else ""
    body = (
        "<h1>Something went wrong</h1><p>We couldn't log in with TikTok. This may be due to "
        "specific app settings. If you're a developer, correct the following and try again:</p>"
        f"<div class=error><code id=error>{escape(error)}</code>{kind}<br>"
        f"<span id=error-description>{escape(description)}</span></div>"
    )
    return layout("Authorization error", body)


def avatar_svg(creator: Creator, size: int) -> str:
    initials = "".join(w[0] for w in creator.nickname.split()[:2]).upper() or "?"
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' "
        f"viewBox='0 0 100 100'><circle cx='50' cy='50' r='50' "
        f"fill='{escape(creator.avatar_color)}'/><text x='50' y='62' font-size='36' "
        f"text-anchor='middle' fill='#fff' font-family='sans-serif'>{escape(initials)}</text></svg>"
    )
