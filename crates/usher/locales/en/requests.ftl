nav-requests = Requests
nav-settings = Settings
dashboard-pending-requests = { $count ->
    [one] 1 request is waiting for your decision.
   *[other] { $count } requests are waiting for your decision.
}

request-title = Ask for access
request-closed = Requests are closed at the moment. If you know the owner, ask them for an invite link.
request-intro = Tell the owner who you are. You'll hear back once they decide.
request-intro-owner = Ask { $owner } for access. You'll hear back once they decide.
request-name = Your name
request-email = Your email
request-email-or-plex = Your email or Plex username
request-note = A note for the owner (optional)
request-submit = Send request
request-bad-name = Write your name (2–100 characters).
request-bad-email = That email address does not look right.
request-bad-plex-email = Write your email or your Plex username.
request-note-too-long = The note can be at most 500 characters.
request-passphrase = That passphrase is not right.
request-already-pending = There is already a request waiting for this email. You'll hear back soon.
request-rate-limited = Too many requests from your network. Try again in an hour.
request-email-rate-limited = This email has asked several times today. Try again tomorrow, or ask the owner directly.
request-origin-refused = This site may not send requests to this server. The owner can allow it with allowed_origins.
request-api-pending = Request sent. The owner has been told; the answer comes by email.
request-api-approved = You're in: access has been set up for you. Check your email for how to start.
request-sent-title = Request sent
request-sent-approved = You're in: access has been set up for you.
request-sent-body = The owner has been told. If they don't decide within { $hours } hours, the request expires and you can send a new one.
request-sent-step-mail = Watch your email (and your Plex invitations, if you use Plex).
request-sent-step-app = Meanwhile, install the app for your device so you can start right away.

requests-title = Requests
requests-notice-approved = Approved. What happens next, and any link to pass on, is on the request below.
requests-notice-declined = Declined.
request-status-pending = Waiting
request-status-approved = Approved
request-status-declined = Declined
request-status-expired = Expired
request-age = { $hours ->
    [0] just now
    [one] 1 hour ago
   *[other] { $hours } hours ago
}
request-expires-in = expires in { $hours } h
request-last-attempt = The last approval failed:
request-approve = Approve…
request-local-invite-hint = They get a personal invite link to choose their own username and password.
request-approve-submit = Approve and set up access
request-decline = Decline…
request-decline-reason = Reason (optional, sent to them)
request-decline-submit = Decline
request-decided-by = Decided by { $who }
requests-empty-title = No requests yet
requests-empty = Share the request form's link; new requests appear here and on Telegram if the bot is set up.

settings-title = Settings
settings-notice-general = Saved.
settings-notice-requests = Request form settings saved.
settings-notice-telegram = Telegram settings saved.
settings-notice-telegram-test = Test message sent. Check Telegram.
settings-notice-email = Email settings saved.
settings-notice-email-test = Test email sent.
settings-general = General
settings-owner-name = Your name as friends know it
settings-owner-name-hint = Shown on invite and request pages: "Ana invited you".
settings-owner-too-long = Keep the name to 60 characters.
settings-save = Save
settings-requests = Request form
settings-requests-link = The form is at
settings-requests-enabled = Accept requests
settings-requests-servers = Servers requests can be approved for
settings-requests-servers-hint = None ticked means all servers.
settings-auto-approve = Approve at once with the default libraries (an open form)
settings-expiry-hours = Pending requests expire after (hours)
settings-per-ip = Requests per network per hour
settings-secret-set = (set; type to replace)
settings-clear-passphrase = Remove the passphrase
settings-telegram = Telegram bot
settings-telegram-hint = Create a bot with @BotFather, paste its token, and add your Telegram user id (ask @userinfobot) to decide requests from your phone.
settings-bot-token = Bot token
settings-clear-token = Remove the token
settings-allowed-ids = Telegram user ids allowed to decide
settings-allowed-ids-hint = Numbers, separated by commas. Anyone else who presses a button is refused.
settings-chat-id = Chat to notify (your user id, or a group id)
settings-mode = How the bot receives updates
settings-mode-polling = Polling (works behind NAT; no open port)
settings-mode-webhook = Webhook (needs an https public URL)
settings-telegram-test = Send a test message
settings-email = Email
settings-email-hint = With an SMTP server, requesters are told by email when you approve or decline.
settings-smtp-host = SMTP server
settings-smtp-port = Port (empty for the usual one)
settings-smtp-security = Encryption
settings-smtp-starttls = STARTTLS (port 587)
settings-smtp-tls = TLS (port 465)
settings-smtp-none = None (local relay only)
settings-smtp-username = Username
settings-clear-password = Remove the password
settings-smtp-from = Sender, e.g. usher <usher@example.com>
settings-email-test-to = Send a test email to
settings-email-test = Send test email
settings-bad-hours = Expiry is a number of hours from 1 to 720.
settings-bad-rate = Requests per hour is a number from 1 to 1000.
settings-bad-token = That does not look like a bot token (digits, a colon, then letters).
settings-bad-ids = User ids are numbers separated by commas.
settings-bad-chat = The chat id is a number (group ids start with -).
settings-webhook-needs-https = Webhook mode needs USHER_PUBLIC_URL to start with https://.
settings-telegram-incomplete = Set the bot token and the chat to notify first.
settings-delivery-failed = That did not get through to Telegram or the mail server (the settings themselves are saved).
settings-telegram-test-message = usher is connected. New access requests will appear here.
settings-bad-host = The SMTP server is a host name like smtp.example.com.
settings-bad-port = The port is a number from 1 to 65535.
settings-bad-from = The sender must be an address like usher@example.com or usher <usher@example.com>.
settings-email-test-subject = usher test email
settings-email-test-body = This is a test from usher. Email is working.


tg-new-request = New access request
tg-name = Name
tg-email = Email
tg-note = Note
tg-expires = Expires { $when } if nobody decides.
tg-approved-by = Approved by
tg-declined-by = Declined by
tg-expired = Expired without a decision.
tg-approve = Approve
tg-decline = Decline
tg-send = Send invite
tg-cancel = Cancel
tg-retry = Retry
tg-pick-libraries = Choose the libraries, then send:
tg-not-authorized = Not authorized
tg-role-queue-only = Your role is approver: you can approve and decline requests here, but not make invites or see the numbers.
tg-unknown-button = That button is no longer valid.
tg-request-gone = That request no longer exists.
tg-already-expired = This request has expired.
tg-already-handled = This request was already handled.
tg-working = Setting up access…
tg-could-not-approve = Could not approve:
tg-not-allowed-id = ⛔ You are not allowed to use this bot. Your Telegram id is { $id }: the owner can add it in usher's settings.
tg-no-pending = No requests are waiting.
tg-invite-created = New invite:
tg-invite-usage = Use /invite [uses] [days], e.g. /invite 1 7
tg-stats = Waiting requests: { $pending }
    Active invites: { $invites }
    Joined in 7 days: { $week }
    Members per server:
tg-help = /pending: requests waiting for a decision
    /invite [uses] [days]: a new invite link with the default libraries
    /stats: numbers at a glance
    /help: this list

request-handoff-title = Personal link
request-handoff-intro = { $name } chooses a username and password with this one-use link. Send it to them.
request-handoff-used = { $name } has used this link and has an account.
request-handoff-emailed = Emailed to { $email }.
request-handoff-not-emailed = Not emailed: email is not set up (Settings → Email) or the request has no address. Send the link yourself.
request-handoff-share-title = Your invite
request-handoff-share-text = { $name }, here is your link to set up your account:
request-handoff-qr = Show QR code
tg-personal-link = Personal link (one use):
tg-link-emailed = Emailed to { $email }.
tg-link-not-emailed = Not emailed: forward this link to them.
