# Admin accounts: roles, the account page, other admins.
settings-owner-only = The bot's and the mail server's settings, notification channels and API keys hold secrets: only the owner sees and changes them.
role-owner = Owner
role-admin = Admin
role-approver = Approver
role-owner-hint = Everything, other admins and secrets included.
role-admin-hint = Everything but other admins, secrets and backups.
role-approver-hint = The requests queue (here and in Telegram) and the members list, read-only.
auth-last-owner = usher needs an owner: make another admin the owner first.
auth-bad-role = The role must be owner, admin or approver.
