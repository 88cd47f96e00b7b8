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
REASON = "reason"
DECLINE_REASON = "decline_reason"

# The App Home's calendar feeds: a new secret link for the feed whose kind is the button's value.
FEED_ROTATE = "feed_rotate"
