# The events log as sentences. $actor is who acted ("You" when it is the reader, "usher" for
# what usher did by itself); $subject what it was done to; $who the person in the subject;
# $member and $server the member and server it concerns; $detail the recorded detail.
event-you = You
event-usher = usher
event-family-request = Requests
event-family-invite = Invites
event-family-member = Members
event-family-grant = Access on servers
event-family-server = Servers
event-family-profile = Profiles
event-family-onboarding = Steps after joining
event-family-notify = Notifications
event-family-telegram = Telegram
event-family-settings = Settings
event-family-api_key = API keys
event-family-admin = Admins and sign-ins
events-any-action = Anything

event-request-created = { $actor } asked to join
event-request-approved = { $actor } approved { $who }’s request
event-request-declined = { $actor } declined { $who }’s request
event-request-expired = { $who }’s request expired unanswered
event-request-approval_failed = Approving { $who }’s request did not finish

event-invite-created = { $actor } created invite { $subject }
event-invite-redeemed = { $actor } joined { $detail } through invite { $subject }

event-member-access_changed = { $actor } changed what { $member } can use
event-member-disable_requested = { $actor } paused { $member }
event-member-enable_requested = { $actor } switched { $member } back on
event-member-expired = { $member }’s access ran out
event-member-expiring = { $member }’s access ends soon
event-member-expiry_cleared = { $actor } made { $member }’s access last with no end date
event-member-expiry_extended = { $actor } extended { $member }’s access
event-member-expiry_set = { $actor } set when { $member }’s access ends
event-member-imported = { $member } was brought in from a server
event-member-notes_changed = { $actor } changed the notes on { $member }
event-member-remove_requested = { $actor } removed { $member }
event-member-removed = { $member } was removed

event-grant-provisioned = { $member } got access on { $server }
event-grant-accepted = { $member } accepted the share on { $server }
event-grant-back_on_server = { $member } is back on { $server }
event-grant-combined = { $member }’s Plex share on { $server } now serves several members
event-grant-disabled = { $member } was paused on { $server }
event-grant-enabled = { $member } can use { $server } again
event-grant-expired_disable = { $member }’s time on { $server } ran out: paused
event-grant-expired_remove = { $member }’s time on { $server } ran out: removed
event-grant-failed = { $server } could not be changed for { $member }
event-grant-gone_from_server = { $member } is no longer on { $server }
event-grant-refused = { $server } refused { $member }
event-grant-removed = { $member } was removed from { $server }
event-grant-share_kept = { $member } left { $server }; the shared Plex account keeps its share
event-grant-superseded = { $member }’s Plex share on { $server } passed to a newer membership
event-grant-updated = { $member }’s access on { $server } was changed

event-server-added = { $actor } connected { $subject }
event-server-updated = { $actor } changed the server { $subject }
event-server-defaults_changed = { $actor } changed the defaults for { $subject }
event-server-libraries_changed = { $actor } changed the libraries offered on { $subject }
event-server-expiry_changed = { $actor } changed what ending access does on { $subject }
event-server-removed = { $actor } removed the server { $subject }
event-server-scanned = { $actor } read the libraries of { $subject } again
event-server-synced = { $subject } was checked against the members list
event-server-sync_failed = Checking { $subject } against the members list failed

event-profile-created = { $actor } created the profile { $subject }
event-profile-updated = { $actor } changed the profile { $subject }
event-profile-deleted = { $actor } deleted the profile { $subject }

event-onboarding-changed = { $actor } changed the steps after joining ({ $subject })
event-onboarding-reset = { $actor } put back the built-in steps after joining ({ $subject })

event-notify-channel_added = { $actor } added the notification channel { $subject }
event-notify-channel_changed = { $actor } changed the notification channel { $subject }
event-notify-channel_deleted = { $actor } deleted the notification channel { $subject }
event-notify-secret_replaced = { $actor } replaced the secret of { $subject }
event-notify-tested = { $actor } sent a test to { $subject }
event-notify-failed = A message to { $subject } could not be sent

event-telegram-refused = The bot ignored a press from { $subject }, who is not on the allowed list

event-settings-changed = { $actor } changed the { $subject } settings
event-settings-tested = { $actor } tested the { $subject } settings

event-api_key-created = { $actor } created the API key { $subject }
event-api_key-revoked = { $actor } revoked an API key

event-admin-setup = { $subject } set up usher
event-admin-signed_in = { $subject } signed in
event-admin-signed_in_new_device = { $subject } signed in from a new device
event-admin-signed_out = { $subject } signed out
event-admin-locked = Signing in as { $subject } was locked after too many tries
event-admin-password_changed = { $subject }’s password was changed
event-admin-session_ended = { $actor } ended a session of { $subject }
event-admin-invited = { $actor } invited a new admin
event-admin-invite_revoked = { $actor } withdrew an admin invitation
event-admin-joined = { $subject } joined as an admin
event-admin-role_changed = { $actor } changed { $subject }’s role
event-admin-removed = { $actor } removed the admin { $subject }
event-admin-telegram_linked = { $actor } linked a Telegram account to { $subject }
event-admin-passkey_added = { $subject } added a passkey
event-admin-passkey_removed = { $actor } removed a passkey of { $subject }
event-admin-two_factor_on = { $subject } switched on authenticator codes
event-admin-two_factor_off = Authenticator codes were switched off for { $subject }
event-admin-recovery_code_used = { $subject } signed in with a recovery code

time-just-now = just now
time-minutes-ago = { $n ->
    [one] a minute ago
   *[other] { $n } minutes ago
}
time-hours-ago = { $n ->
    [one] an hour ago
   *[other] { $n } hours ago
}
time-in-minutes = { $n ->
    [one] in a minute
   *[other] in { $n } minutes
}
time-in-hours = { $n ->
    [one] in an hour
   *[other] in { $n } hours
}
events-zone = Times are in { $zone }.
