# El registro como frases. $actor es quien actuó («ti» si es quien lee, «usher» si lo hizo usher
# solo); $subject sobre qué; $who la persona del asunto; $member y $server el miembro y el
# servidor; $detail el detalle guardado.
event-you = ti
event-usher = usher
event-family-request = Solicitudes
event-family-invite = Invitaciones
event-family-member = Miembros
event-family-grant = Acceso en servidores
event-family-server = Servidores
event-family-profile = Perfiles
event-family-onboarding = Pasos tras unirse
event-family-notify = Notificaciones
event-family-telegram = Telegram
event-family-settings = Ajustes
event-family-api_key = Claves de API
event-family-admin = Administradores e inicios de sesión
events-any-action = Cualquier cosa

event-request-created = { $actor } pidió unirse
event-request-approved = Solicitud de { $who } aprobada por { $actor }
event-request-declined = Solicitud de { $who } rechazada por { $actor }
event-request-expired = La solicitud de { $who } caducó sin respuesta
event-request-approval_failed = La aprobación de la solicitud de { $who } no terminó

event-invite-created = Invitación { $subject } creada por { $actor }
event-invite-redeemed = { $actor } se unió a { $detail } con la invitación { $subject }

event-member-access_changed = Lo que puede usar { $member } cambiado por { $actor }
event-member-disable_requested = { $member } pausado por { $actor }
event-member-enable_requested = { $member } reactivado por { $actor }
event-member-expired = El acceso de { $member } terminó
event-member-expiring = El acceso de { $member } termina pronto
event-member-expiry_cleared = Acceso de { $member } sin fecha de fin, por { $actor }
event-member-expiry_extended = Acceso de { $member } ampliado por { $actor }
event-member-expiry_set = Fin del acceso de { $member } fijado por { $actor }
event-member-imported = { $member } se trajo desde un servidor
event-member-notes_changed = Notas de { $member } cambiadas por { $actor }
event-member-remove_requested = { $member } quitado por { $actor }
event-member-removed = { $member } fue quitado

event-grant-provisioned = { $member } recibió acceso en { $server }
event-grant-accepted = { $member } aceptó lo compartido en { $server }
event-grant-back_on_server = { $member } vuelve a estar en { $server }
event-grant-combined = Lo compartido por Plex a { $member } en { $server } sirve ahora a varios miembros
event-grant-disabled = { $member } pausado en { $server }
event-grant-enabled = { $member } puede volver a usar { $server }
event-grant-expired_disable = El tiempo de { $member } en { $server } terminó: pausado
event-grant-expired_remove = El tiempo de { $member } en { $server } terminó: quitado
event-grant-failed = No se pudo cambiar { $server } para { $member }
event-grant-gone_from_server = { $member } ya no está en { $server }
event-grant-refused = { $server } rechazó a { $member }
event-grant-removed = { $member } quitado de { $server }
event-grant-share_kept = { $member } dejó { $server }; la cuenta de Plex compartida conserva lo compartido
event-grant-superseded = Lo compartido por Plex a { $member } en { $server } pasó a una membresía más nueva
event-grant-updated = El acceso de { $member } en { $server } cambió

event-server-added = { $subject } conectado por { $actor }
event-server-updated = Servidor { $subject } cambiado por { $actor }
event-server-defaults_changed = Valores por defecto de { $subject } cambiados por { $actor }
event-server-libraries_changed = Bibliotecas ofrecidas en { $subject } cambiadas por { $actor }
event-server-expiry_changed = Qué hace el fin del acceso en { $subject }, cambiado por { $actor }
event-server-removed = Servidor { $subject } quitado por { $actor }
event-server-scanned = Bibliotecas de { $subject } leídas de nuevo por { $actor }
event-server-synced = { $subject } comparado con la lista de miembros
event-server-sync_failed = No se pudo comparar { $subject } con la lista de miembros

event-profile-created = Perfil { $subject } creado por { $actor }
event-profile-updated = Perfil { $subject } cambiado por { $actor }
event-profile-deleted = Perfil { $subject } borrado por { $actor }

event-onboarding-changed = Pasos tras unirse ({ $subject }) cambiados por { $actor }
event-onboarding-reset = Pasos tras unirse ({ $subject }) devueltos a los de serie por { $actor }

event-notify-channel_added = Canal de notificaciones { $subject } añadido por { $actor }
event-notify-channel_changed = Canal de notificaciones { $subject } cambiado por { $actor }
event-notify-channel_deleted = Canal de notificaciones { $subject } borrado por { $actor }
event-notify-secret_replaced = Secreto de { $subject } reemplazado por { $actor }
event-notify-tested = Prueba enviada a { $subject } por { $actor }
event-notify-failed = No se pudo enviar un mensaje a { $subject }

event-telegram-refused = El bot ignoró una pulsación de { $subject }, que no está en la lista permitida

event-settings-changed = Ajustes de { $subject } cambiados por { $actor }
event-settings-tested = Ajustes de { $subject } probados por { $actor }

event-api_key-created = Clave de API { $subject } creada por { $actor }
event-api_key-revoked = Clave de API revocada por { $actor }

event-admin-setup = { $subject } configuró usher
event-admin-signed_in = { $subject } inició sesión
event-admin-signed_in_new_device = { $subject } inició sesión desde un dispositivo nuevo
event-admin-signed_out = { $subject } cerró sesión
event-admin-locked = Inicio de sesión como { $subject } bloqueado tras demasiados intentos
event-admin-password_changed = Contraseña de { $subject } cambiada
event-admin-session_ended = Sesión de { $subject } cerrada por { $actor }
event-admin-invited = Nuevo administrador invitado por { $actor }
event-admin-invite_revoked = Invitación de administrador retirada por { $actor }
event-admin-joined = { $subject } se unió como administrador
event-admin-role_changed = Rol de { $subject } cambiado por { $actor }
event-admin-removed = Administrador { $subject } quitado por { $actor }
event-admin-telegram_linked = Cuenta de Telegram vinculada a { $subject } por { $actor }
event-admin-passkey_added = { $subject } añadió una llave de acceso
event-admin-passkey_removed = Llave de acceso de { $subject } quitada por { $actor }
event-admin-two_factor_on = { $subject } activó los códigos de autenticación
event-admin-two_factor_off = Códigos de autenticación desactivados para { $subject }
event-admin-recovery_code_used = { $subject } inició sesión con un código de recuperación

time-just-now = ahora mismo
time-minutes-ago = { $n ->
    [one] hace un minuto
   *[other] hace { $n } minutos
}
time-hours-ago = { $n ->
    [one] hace una hora
   *[other] hace { $n } horas
}
time-in-minutes = { $n ->
    [one] dentro de un minuto
   *[other] dentro de { $n } minutos
}
time-in-hours = { $n ->
    [one] dentro de una hora
   *[other] dentro de { $n } horas
}
events-zone = Las horas están en { $zone }.
