skip-to-content = Skip to content
nav-label = Main
nav-dashboard = Dashboard
nav-logout = Sign out ({ $name })
theme-label = Theme
theme-light = Light
theme-dark = Dark
theme-auto = Match system
language-label = Language

error-eyebrow = Error { $status }
error-home = Go to the start page
error-bad-request = That request could not be understood.
error-not-found = There is nothing here. Check the link, or start again from the home page.
error-csrf = This form has expired or was sent from another site. Go back, reload the page and try again.
error-rate-limited = Too many attempts. Wait a few minutes and try again.
error-internal = Something went wrong on our side. Try again; if it keeps happening, the owner can check usher's log.
error-unauthorized = Sign in first.
error-too-large = That was too much data to send at once.

setup-title = Welcome to usher
setup-intro = Create the owner account. You will use it to connect servers, invite friends and approve requests.
setup-password-hint = At least 10 characters. A few unrelated words make a strong password.
setup-submit = Create account and continue
setup-token-required = Setup needs the one-time link that usher printed in its log when it started. Open that link, or restart usher to get a fresh one.
setup-already-done = Setup is already done. Sign in instead.
setup-passwords-differ = The two passwords are not the same. Type them again.

field-username = Username
field-password = Password
field-password-confirm = Password again

auth-bad-username = The username must be 1–64 characters: letters, digits, and . _ - @
auth-password-too-short = The password must be at least 10 characters.
auth-password-too-long = The password must be at most 256 characters.
auth-username-taken = An admin with that name already exists.
auth-no-such-admin = There is no admin with that name.

login-title = Sign in
login-needs-setup = No owner account exists yet. Open the setup link printed in usher's log to create one.
login-submit = Sign in
login-wrong = Wrong username or password.
login-locked = Too many failed attempts. This account is locked for { $minutes } more minutes.
login-too-many = Too many sign-in attempts from your network. Try again in { $minutes } minutes.

dashboard-title = Dashboard
dashboard-connect-title = Connect your first server
dashboard-connect-body = Add a Plex, Jellyfin or Emby server so usher can share its libraries with your friends.
dashboard-connect-action = Connect a server
dashboard-invite-title = Invite someone
dashboard-invite-body = Create an invite link and send it to a friend: they get exactly the libraries you choose.
dashboard-invite-after-server = Once a server is connected, you can create invite links for your friends here.
dashboard-activity = Recent activity
dashboard-no-activity = Nothing has happened yet.
