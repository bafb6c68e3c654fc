# Members: the list, a member's page, expiry and sync.

nav-members = Members

## The list
members-title = Members
members-sync = Sync with servers
members-notice-synced = Sync finished: { $imported } imported, { $gone } gone from a server.
members-notice-sync-failed = { $failed ->
    [one] One server could not be synced; the reason is below.
   *[other] { $failed } servers could not be synced; the reasons are below.
}
members-sync-error = { $server } could not be synced:
members-search = Name, email, username or Plex account
members-search-submit = Search
members-filter-server = Server
members-filter-status = Status
members-filter-origin = Origin
members-any = Any
members-sort = Sort by
members-sort-name = Name
members-sort-created = Joined
members-sort-expires = Expiry
members-order = Order
members-order-asc = Ascending
members-order-desc = Descending
members-apply = Apply
members-pages = Pages
members-prev = Previous
members-next = Next
members-page-of = Page { $page } of { $pages }
members-none-match = No member matches these filters.
members-empty-title = No members yet
members-empty-body = Members appear when someone redeems an invite. People who already have access on your servers appear after a sync.

## Statuses, origins and marks
member-status-active = Active
member-status-pending = Invite not accepted
member-status-provisioning = Being set up
member-status-disabled = Paused
member-status-removed = Removed
member-status-failed = Setup failed
member-status-failing = Failing
member-status-gone = Gone from server
member-origin-invite = Invite
member-origin-request = Request
member-origin-imported = Imported
member-origin = Origin
member-gone = Gone from server
member-gone-hint = The last sync ({ $when }) did not find this access on the server. It may have been removed there; the history is kept.
member-created = joined { $when }
member-expires = expires { $when }
member-no-expiry = Never expires
member-no-access = No access left
member-expired = Expired
member-failing-remove = Removal failing: { $reason }
member-failing-disable = Pausing failing: { $reason }
member-failing-enable = Resuming failing: { $reason }
member-failing-update = Change failing: { $reason }
member-failing-provision = Setup failing: { $reason }
member-failing-hint = usher keeps trying with growing pauses (at most an hour) until the server confirms.
member-job-remove = Removal in progress.
member-job-disable = Pausing in progress.
member-job-enable = Resuming in progress.
member-job-update = Change in progress.
member-job-provision = Setup in progress.
member-last-error = The last change was refused: { $reason }

## A member's page
member-email = Email
member-plex-account = Plex account
member-username = Username
member-account = Account
member-since = Since
member-expiry = Access ends
member-reminded = Reminder recorded
member-expiry-title = When access ends
member-expiry-date = Date
member-expiry-time = Time (UTC)
member-expiry-time-hint = Times are in { $zone }. Without a time, access lasts through the end of that day.
member-expiry-set = Save date
member-expiry-extend = Extend by 30 days
member-expiry-clear = Never expires
member-libraries = Libraries
member-permissions = Permissions
member-access-save = Save access
member-disable = Pause access
member-enable = Resume access
member-enable-expired = Access expired: set a later date before resuming it.
member-no-disable = { $kind } cannot pause access; remove it instead.
member-remove-title = Remove from { $server }
member-remove-body = The account or share is removed on the server. The member stays listed, with their history, until the server confirms.
member-remove-confirm = Yes, remove access on { $server }
member-remove-submit = Remove
member-notes = Notes
member-notes-save = Save notes
member-history = History
member-no-history = Nothing recorded yet.
member-notice-saved = Access changed on the server.
member-notice-queued = The server did not confirm yet; usher keeps trying.
member-notice-expiry = Expiry saved.
member-notice-notes = Notes saved.
member-notice-disabled = Access paused.
member-notice-enabled = Access resumed.
member-notice-removed = Access removed.

## Mistakes
member-grant-not-live = This access is not on the server (any more), so it cannot be changed.
member-grant-removing = This access is being removed.
member-no-library = Choose at least one library. To end access, remove it instead.
member-bad-max-sessions = Simultaneous streams is a number from 1 to 100, or empty for no limit.
member-unknown-library = That library is not offered on this server. Rescan the server and try again.
member-no-live-access = This member has no access left to change.
member-cannot-disable = This server cannot pause access. Remove it instead.
member-grant-not-active = Only active access can be paused.
member-grant-not-disabled = This access is not paused.
member-grant-already-removed = This access was already removed.
member-notes-too-long = Notes are at most 2000 characters.
member-date-required = Choose a date.
member-bad-date = That is not a date (use the date picker, or write 2026-12-31).
member-date-past = That date is already past.
member-bad-expiry-action = Choose to save a date, extend or clear the expiry.
member-remove-unconfirmed = Tick the box to confirm the removal.

## Servers: sync and expiry
server-synced = Last sync
server-never-synced = Never
server-sync-error = The last sync failed:
server-sync = Sync accounts
server-members = Members
server-notice-expiry = Expiry setting saved.
server-notice-synced = Accounts synced.
server-notice-sync-failed = The sync failed. The reason is below.
server-expiry-title = When access expires
server-expiry-legend = When a member's access on this server expires
server-expiry-disable = Pause the account (it can be resumed)
server-expiry-disable_then_remove = Pause it, then remove it after some days
server-expiry-remove = Remove the account
server-expiry-days = Days between pausing and removing
server-expiry-save = Save
server-expiry-remove-only = { $kind } cannot pause access: when it expires, it is removed.
server-expiry-bad-action = Choose what happens when access expires.
server-expiry-bad-days = The days before removal are a number from 0 to 3650.
member-bad-filter = The member list has no such filter.
