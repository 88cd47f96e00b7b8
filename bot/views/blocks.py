"""Block Kit primitives every view is built from: text objects, blocks, buttons, and text made safe."""

from __future__ import annotations

from typing import Any

Blocks = list[dict[str, Any]]
HEADER_LIMIT = 150  # Slack's limit on a header's text


def text(value: str) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": value, "emoji": True}


def header(words: str) -> dict[str, Any]:
    """A header block (plain text, cut to Slack's 150 characters)."""
    return {"type": "header", "text": text(words[:HEADER_LIMIT])}


def section(markdown: str) -> dict[str, Any]:
    """A section block of mrkdwn."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown}}


def context(markdown: str) -> dict[str, Any]:
    """A context block of mrkdwn."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown}]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element = {"type": "button", "text": text(label), "action_id": action_id, "value": value}
    return element | ({"style": style} if style else {})


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    """An input block whose one element's action id is its block id (unset fields of ``element`` left out)."""
    element = {key: value for key, value in element.items() if value not in (None, "")}
    return {
        "type": "input",
        "block_id": block_id,
        "label": text(label),
        "optional": optional,
        "element": {**element, "action_id": block_id},
    }


def escape(text: str) -> str:
    """Text typed by people, made safe for mrkdwn (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(line: str, limit: int) -> str:
    """``line`` cut to ``limit`` characters, ending in '…' when it was cut."""
    return line if len(line) <= limit else line[: limit - 1] + "…"
