"""HR systems behind one interface; ``PROVIDERS`` maps ``LEAVEBOT_PROVIDER`` names to them."""

from providers.base import ApprovalMode, Capabilities, HttpProvider, LeaveProvider, SessionProvider
from providers.local import LocalProvider
from providers.timetastic import TimetasticProvider

PROVIDERS: dict[str, type[LeaveProvider]] = {
    cls.name: cls
    for cls in (
        LocalProvider,
        TimetasticProvider,
    )
}

__all__ = ["PROVIDERS", "ApprovalMode", "Capabilities", "HttpProvider", "LeaveProvider", "SessionProvider"]
