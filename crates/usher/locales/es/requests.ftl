nav-requests = Solicitudes
nav-settings = Ajustes
dashboard-pending-requests = { $count ->
    [one] 1 solicitud espera tu decisión.
   *[other] { $count } solicitudes esperan tu decisión.
}

request-title = Pide acceso
request-closed = Ahora mismo no se aceptan solicitudes. Si conoces al dueño, pídele un enlace de invitación.
request-intro = Cuéntale al dueño quién eres. Te avisaremos cuando decida.
request-intro-owner = Pide acceso a { $owner }. Te avisaremos cuando decida.
request-name = Tu nombre
request-email = Tu correo
request-email-or-plex = Tu correo o usuario de Plex
request-note = Una nota para el dueño (opcional)
request-submit = Enviar solicitud
request-bad-name = Escribe tu nombre (de 2 a 100 caracteres).
request-bad-email = Ese correo no parece correcto.
request-bad-plex-email = Escribe tu correo o tu usuario de Plex.
request-note-too-long = La nota puede tener como máximo 500 caracteres.
request-passphrase = Esa frase de acceso no es correcta.
request-already-pending = Ya hay una solicitud pendiente para este correo. Te responderán pronto.
request-rate-limited = Demasiadas solicitudes desde tu red. Vuelve a intentarlo en una hora.
request-email-rate-limited = Este correo ya ha pedido acceso varias veces hoy. Prueba mañana o pregunta directamente al dueño.
request-origin-refused = Este sitio no puede enviar solicitudes a este servidor. El dueño puede permitirlo con allowed_origins.
request-api-pending = Solicitud enviada. El dueño ya lo sabe; la respuesta llegará por correo.
request-api-approved = Ya tienes acceso. Mira tu correo para saber cómo empezar.
request-sent-title = Solicitud enviada
request-sent-approved = Ya estás dentro: tu acceso está listo.
request-sent-body = Ya avisamos al dueño. Si no decide en { $hours } horas, la solicitud caduca y puedes enviar otra.
request-sent-step-mail = Revisa tu correo (y tus invitaciones de Plex, si usas Plex).
request-sent-step-app = Mientras tanto, instala la app para tu dispositivo y podrás empezar enseguida.

requests-title = Solicitudes
requests-notice-approved = Aprobada. Qué pasa ahora, y el enlace que haya que enviar, está en la solicitud de abajo.
requests-notice-declined = Rechazada.
request-status-pending = Pendiente
request-status-approved = Aprobada
request-status-declined = Rechazada
request-status-expired = Caducada
request-age = { $hours ->
    [0] ahora mismo
    [one] hace 1 hora
   *[other] hace { $hours } horas
}
request-expires-in = caduca en { $hours } h
request-last-attempt = La última aprobación falló:
request-approve = Aprobar…
request-local-invite-hint = Recibe un enlace de invitación personal para elegir su propio usuario y contraseña.
request-approve-submit = Aprobar y preparar el acceso
request-decline = Rechazar…
request-decline-reason = Motivo (opcional, se le envía)
request-decline-submit = Rechazar
request-decided-by = Decidido por { $who }
requests-empty-title = Aún no hay solicitudes
requests-empty = Comparte el enlace del formulario; las solicitudes nuevas aparecen aquí y en Telegram si el bot está configurado.

settings-title = Ajustes
settings-notice-general = Guardado.
settings-notice-requests = Ajustes del formulario guardados.
settings-notice-telegram = Ajustes de Telegram guardados.
settings-notice-telegram-test = Mensaje de prueba enviado. Revisa Telegram.
settings-notice-email = Ajustes de correo guardados.
settings-notice-email-test = Correo de prueba enviado.
settings-general = General
settings-owner-name = Tu nombre tal como te conocen tus amigos
settings-owner-name-hint = Se muestra en las páginas de invitación y de solicitud: "Ana te invitó".
settings-owner-too-long = El nombre puede tener como máximo 60 caracteres.
settings-save = Guardar
settings-requests = Formulario de solicitud
settings-requests-link = El formulario está en
settings-requests-enabled = Aceptar solicitudes
settings-requests-servers = Servidores para los que se pueden aprobar solicitudes
settings-requests-servers-hint = Si no marcas ninguno, valen todos.
settings-auto-approve = Aprobar al momento con las bibliotecas predeterminadas (formulario abierto)
settings-expiry-hours = Las solicitudes pendientes caducan tras (horas)
settings-per-ip = Solicitudes por red y hora
settings-secret-set = (configurado; escribe para cambiarlo)
settings-clear-passphrase = Quitar la frase de acceso
settings-telegram = Bot de Telegram
settings-telegram-hint = Crea un bot con @BotFather, pega su token y añade tu id de usuario de Telegram (pregúntale a @userinfobot) para decidir solicitudes desde el móvil.
settings-bot-token = Token del bot
settings-clear-token = Quitar el token
settings-allowed-ids = Ids de Telegram que pueden decidir
settings-allowed-ids-hint = Números separados por comas. Se rechaza a cualquier otra persona que pulse un botón.
settings-chat-id = Chat al que avisar (tu id de usuario o el id de un grupo)
settings-mode = Cómo recibe el bot las novedades
settings-mode-polling = Consulta periódica (funciona tras NAT; sin puertos abiertos)
settings-mode-webhook = Webhook (necesita una URL pública https)
settings-telegram-test = Enviar un mensaje de prueba
settings-email = Correo
settings-email-hint = Con un servidor SMTP, quien pide acceso recibe un correo cuando apruebas o rechazas.
settings-smtp-host = Servidor SMTP
settings-smtp-port = Puerto (vacío para el habitual)
settings-smtp-security = Cifrado
settings-smtp-starttls = STARTTLS (puerto 587)
settings-smtp-tls = TLS (puerto 465)
settings-smtp-none = Ninguno (solo relé local)
settings-smtp-username = Usuario
settings-clear-password = Quitar la contraseña
settings-smtp-from = Remitente, p. ej. usher <usher@example.com>
settings-email-test-to = Enviar un correo de prueba a
settings-email-test = Enviar correo de prueba
settings-bad-hours = La caducidad es un número de horas de 1 a 720.
settings-bad-rate = Las solicitudes por hora son un número de 1 a 1000.
settings-bad-token = Eso no parece un token de bot (números, dos puntos y luego letras).
settings-bad-ids = Los ids de usuario son números separados por comas.
settings-bad-chat = El id del chat es un número (los de grupos empiezan por -).
settings-webhook-needs-https = El modo webhook necesita que USHER_PUBLIC_URL empiece por https://.
settings-telegram-incomplete = Configura primero el token del bot y el chat al que avisar.
settings-delivery-failed = Eso no llegó a Telegram ni al servidor de correo (la configuración sí está guardada).
settings-telegram-test-message = usher está conectado. Las nuevas solicitudes de acceso aparecerán aquí.
settings-bad-host = El servidor SMTP es un nombre como smtp.example.com.
settings-bad-port = El puerto es un número de 1 a 65535.
settings-bad-from = El remitente debe ser una dirección como usher@example.com o usher <usher@example.com>.
settings-email-test-subject = Correo de prueba de usher
settings-email-test-body = Esto es una prueba de usher. El correo funciona.


tg-new-request = Nueva solicitud de acceso
tg-name = Nombre
tg-email = Correo
tg-note = Nota
tg-expires = Caduca el { $when } si nadie decide.
tg-approved-by = Aprobada por
tg-declined-by = Rechazada por
tg-expired = Caducó sin decisión.
tg-approve = Aprobar
tg-decline = Rechazar
tg-send = Enviar invitación
tg-cancel = Cancelar
tg-retry = Reintentar
tg-pick-libraries = Elige las bibliotecas y envía:
tg-not-authorized = No autorizado
tg-role-queue-only = Tu rol es aprobador: aquí puedes aprobar y rechazar solicitudes, pero no crear invitaciones ni ver las cifras.
tg-unknown-button = Ese botón ya no es válido.
tg-request-gone = Esa solicitud ya no existe.
tg-already-expired = Esta solicitud ha caducado.
tg-already-handled = Esta solicitud ya se resolvió.
tg-working = Preparando el acceso…
tg-could-not-approve = No se pudo aprobar:
tg-not-allowed-id = ⛔ No puedes usar este bot. Tu id de Telegram es { $id }: el dueño puede añadirlo en los ajustes de usher.
tg-no-pending = No hay solicitudes pendientes.
tg-invite-created = Nueva invitación:
tg-invite-usage = Usa /invite [usos] [días], p. ej. /invite 1 7
tg-stats = Solicitudes pendientes: { $pending }
    Invitaciones activas: { $invites }
    Se unieron en 7 días: { $week }
    Miembros por servidor:
tg-help = /pending: solicitudes que esperan una decisión
    /invite [usos] [días]: un enlace de invitación nuevo con las bibliotecas predeterminadas
    /stats: los números de un vistazo
    /help: esta lista

request-handoff-title = Enlace personal
request-handoff-intro = { $name } elige usuario y contraseña con este enlace de un solo uso. Envíaselo.
request-handoff-used = { $name } ya usó este enlace y tiene su cuenta.
request-handoff-emailed = Enviado por correo a { $email }.
request-handoff-not-emailed = No se envió por correo: el correo no está configurado (Ajustes → Correo) o la solicitud no tiene dirección. Envía tú el enlace.
request-handoff-share-title = Tu invitación
request-handoff-share-text = { $name }, este es tu enlace para crear tu cuenta:
request-handoff-qr = Ver código QR
tg-personal-link = Enlace personal (un solo uso):
tg-link-emailed = Enviado por correo a { $email }.
tg-link-not-emailed = No se envió por correo: reenvíale este enlace.
