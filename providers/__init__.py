"""HR systems behind one interface; ``PROVIDERS`` maps ``LEAVEBOT_PROVIDER`` names to them."""

from providers.base import ApprovalMode, Capabilities, HttpProvider, LeaveProvider, SessionProvider
from providers.local import LocalProvider
from providers.offiserv import OffiServProvider
from providers.timetap import TimeTapProvider
from providers.timetastic import TimetasticProvider
from providers.wheniwork import WhenIWorkProvider
from providers.whosoff import WhosOffProvider

PROVIDERS: dict[str, type[LeaveProvider]] = {
    cls.name: cls
    for cls in (
        LocalProvider,
        OffiServProvider,
        TimetasticProvider,
        TimeTapProvider,
        WhenIWorkProvider,
        WhosOffProvider,
    )
}

__all__ = ["PROVIDERS", "ApprovalMode", "Capabilities", "HttpProvider", "LeaveProvider", "SessionProvider"]
