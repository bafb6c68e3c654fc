# Notifications (channels, messages, deliveries) and the audit log.

nav-events = Events

## Channels page
notify-title = Notifications
notify-intro = Choose where usher tells you what happens: a Telegram chat, a Discord channel, an email address or your own webhook. Each channel hears only the events you tick. Messages are sent in the background and retried when a receiver is down.
notify-notice-created = Channel added. Use “Send a test” to check it.
notify-notice-saved = Channel saved.
notify-notice-deleted = Channel deleted.
notify-notice-tested = Test sent. Check that it arrived.
notify-secret-title = Signing secret
notify-secret-body = Copy it now: usher shows it only this once. Your receiver uses it to check that deliveries come from usher.
notify-secret-how = Every delivery carries X-Usher-Signature: sha256=HEX, the HMAC-SHA256 of the raw request body keyed with this secret. Compare it in constant time.
notify-kind = Channel
notify-kind-label-telegram = Telegram
notify-kind-label-discord = Discord
notify-kind-label-email = Email
notify-kind-label-webhook = Webhook
notify-kind-hint-telegram = the bot and chat from Settings
notify-kind-hint-discord = a channel's webhook URL
notify-kind-hint-email = an address; uses the email settings
notify-kind-hint-webhook = signed JSON to your URL
notify-off = Off
notify-telegram-not-ready = The Telegram bot is not set up yet: add its token and the chat in Settings.
notify-smtp-not-ready = Email is not set up yet: add an SMTP server in Settings.
notify-send-test = Send a test
notify-test-failed = The test did not arrive:
notify-new-secret = New signing secret
notify-new-secret-confirm = Replace the signing secret? Your receiver must use the new one from now on.
notify-edit = Change
notify-name = Name
notify-name-hint = e.g. Family Discord
notify-url = Webhook URL (Discord and webhook channels)
notify-url-hint = Discord: channel settings → Integrations → Webhooks → Copy Webhook URL. Stored encrypted and never shown again.
notify-url-discord = Discord webhook URL (empty keeps the current one)
notify-url-webhook = Receiver URL (empty keeps the current one)
notify-address = Email address (email channels)
notify-address-hint = Where the messages go.
notify-events = Events
notify-telegram-requests = The Telegram bot already announces new requests with Approve and Decline buttons, so Telegram channels do not offer that event.
notify-language = Language of the messages
notify-enabled = Send messages through this channel
notify-delete = Delete channel
notify-delete-confirm = Yes, delete “{ $name }” and its waiting messages
notify-delete-unconfirmed = Tick the box to confirm the deletion.
notify-none = No channels yet. Add one below.
notify-add = Add channel
notify-deliveries = Latest messages
notify-deliveries-hint = A message that cannot be delivered is tried again, waiting longer each time, up to { $attempts } times.
notify-col-when = When
notify-col-to = To
notify-col-event = Event
notify-col-state = State
notify-state-queued = Waiting
notify-state-sending = Sending
notify-state-sent = Sent
notify-state-failed = Failed
notify-attempts = { $count } attempts
notify-next-try = next try { $when }
notify-no-deliveries = Nothing sent yet.
notify-bad-url = Enter the full URL, starting with https:// (or http:// on your own network).
notify-bad-event = That event cannot be chosen for this channel.
notify-no-events = Tick at least one event.
notify-bad-name = Keep the name to 60 characters on one line.
notify-bad-kind = Choose Telegram, Discord, email or webhook.
notify-bad-address = Enter an email address like you@example.com.

## Settings
settings-notifications = Notifications
settings-notifications-hint = Telegram, Discord, email and webhook channels, and which events each one hears about.
settings-notifications-open = Manage notifications

## Events a channel can choose
notify-kind-request-created = New request
notify-kind-request-approved = Request approved
notify-kind-request-declined = Request declined
notify-kind-invite-redeemed = Invite redeemed
notify-kind-provisioning-failed = Setting up access failed
notify-kind-member-expiring = Access ending soon
notify-kind-member-expired = Access expired
notify-kind-member-removed = Member removed from a server
notify-kind-removal-failing = Removal keeps failing
notify-kind-sync-drift = Sync found changes
notify-kind-admin-signed_in_new_device = An admin signed in from a new device
notify-kind-test = Test

## Messages
notify-open = Open in usher
notify-summary-request-created = New access request from { $name }
notify-summary-request-approved = { $by } approved the request from { $name }
notify-summary-request-declined = { $by } declined the request from { $name }
notify-summary-invite-redeemed = { $member } joined with invite { $code }
notify-summary-provisioning-failed = Could not set up access for { $member } on { $server }: { $error }
notify-summary-member-expiring = Access for { $member } on { $server } ends { $expires_at }
notify-summary-member-expired = Access for { $member } on { $server } expired; usher is { $action ->
    [remove] removing it
   *[other] pausing it
}
notify-summary-member-removed = { $member } no longer has access to { $server }
notify-summary-removal-failing = { $job ->
    [disable] Pausing
   *[other] Removing
} { $member } on { $server } keeps failing; usher keeps trying
notify-summary-sync-drift = Sync of { $server }: { $imported_count } new on the server, { $gone_count } gone from it
notify-summary-admin-signed_in_new_device = { $admin } signed in from a device not seen before
notify-summary-test = Test from usher: the channel “{ $channel }” works.
notify-field-name = Name
notify-field-email = Email
notify-field-note = Note
notify-field-access = Access
notify-field-by = By
notify-field-reason = Reason
notify-field-member = Member
notify-field-code = Invite
notify-field-servers = Servers
notify-field-server = Server
notify-field-error = Error
notify-field-expires-at = Ends
notify-field-imported = New on the server
notify-field-gone = Gone from the server
notify-field-channel = Channel
notify-field-admin = Admin
notify-field-device = Device
notify-field-address = Address

## Emails to members
notify-person-member-expiring-subject = Your access to { $server } ends soon
notify-person-member-expiring-body = Hello { $name },

    your access to { $server } ends on { $expires_at }.

    If you would like to keep watching, ask the person who invited you to extend it.

notify-person-request-approved-subject = Your access was approved
notify-person-request-approved-body = Hi { $name },

    your request was approved. You now have access to: { $access }.{ $how ->
        [plex] {"\u000A\u000A"}Plex sends you an invitation by email: accept it, then open Plex and the shared libraries appear.
        [invite] {"\u000A\u000A"}Create your account here (the link works once, for 7 days): { $url }
        [both] {"\u000A\u000A"}Plex sends you an invitation by email: accept it, then open Plex and the shared libraries appear.{"\u000A\u000A"}For the other servers, create your account here (the link works once, for 7 days): { $url }
       *[none] {""}
    }
notify-person-request-declined-subject = About your access request
notify-person-request-declined-body = Hi { $name },

    your access request was declined.{ $has_reason ->
        [yes] {"\u000A\u000A"}Reason: { $reason }
       *[no] {""}
    }
notify-person-invite-redeemed-subject = Welcome to { $servers }
notify-person-invite-redeemed-body = Hi { $name },

    welcome! You now have access to { $servers }. Where to watch:

    { $places }{ $plex ->
        [yes] {"\u000A\u000A"}Plex sends you an invitation by email: accept it, then open Plex and the shared libraries appear.
       *[no] {""}
    }

    Step-by-step help for each app: { $guide }

## Audit log
events-title = Events
events-export = Download CSV
events-filter-actor = Who
events-filter-action = What
events-filter-member = Member
events-filter-member-hint = name, email or #id
events-filter-from = From
events-filter-to = To
events-clear = Show all events
events-newer = Newer
events-older = Older
events-newest = Newest
events-none-match = No event matches these filters.
events-empty = Nothing has happened yet. Invites, requests, changes and failures will show here.
events-bad-action = Choose an action from the list.
events-bad-server = Choose a server from the list.
events-bad-date = Dates look like 2026-11-22.
events-bad-range = The end date must not be before the start date.
events-all = All events
