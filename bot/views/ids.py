"""The action_id and callback_id strings shared by the views and the listeners."""

SUBMIT = "leave_submit"
EDIT = "leave_edit"
DISCARD = "leave_discard"
APPROVE = "leave_approve"
DECLINE = "leave_decline"

# The App Home's buttons.
HOME_REQUEST = "home_request"
HOME_APPROVE = "home_approve"
HOME_DECLINE = "home_decline"
HOME_CANCEL = "home_cancel"
HOME_AWAY_CONNECT = "home_away_connect"  # "Show my leave in my Slack status"
HOME_AWAY_LINK = "home_away_link"  # the consent link (a URL button: Slack still sends its click)
HOME_AWAY_DISCONNECT = "home_away_disconnect"

# `/leave mine`'s buttons.
MINE_CANCEL = "mine_cancel"
MINE_CHANGE = "mine_change"

REQUEST_MODAL = "leave_request_modal"
DECLINE_MODAL = "leave_decline_modal"

# Block ids (and their single action ids) inside the request modal.
START_DATE = "start_date"
END_DATE = "end_date"
START_PART = "start_part"
END_PART = "end_part"
START_TIME = "start_time"
END_TIME = "end_time"
LEAVE_TYPE = "leave_type"
TYPES_UNKNOWN = "types_unknown"  # the modal's note that the HR system's leave types could not be listed
REASON = "reason"
DECLINE_REASON = "decline_reason"

# The App Home's calendar feeds: a new secret link for the feed whose kind is the button's value.
FEED_ROTATE = "feed_rotate"
