# Notificaciones (canales, mensajes, envíos) y el registro de eventos.

nav-events = Eventos

## Página de canales
notify-title = Notificaciones
notify-intro = Elige dónde te cuenta usher lo que pasa: un chat de Telegram, un canal de Discord, una dirección de correo o tu propio webhook. Cada canal recibe solo los eventos que marques. Los mensajes se envían en segundo plano y se reintentan si el receptor no responde.
notify-notice-created = Canal añadido. Usa «Enviar una prueba» para comprobarlo.
notify-notice-saved = Canal guardado.
notify-notice-deleted = Canal eliminado.
notify-notice-tested = Prueba enviada. Comprueba que ha llegado.
notify-secret-title = Secreto de firma
notify-secret-body = Cópialo ahora: usher solo lo muestra esta vez. Tu receptor lo usa para comprobar que los envíos vienen de usher.
notify-secret-how = Cada envío lleva X-Usher-Signature: sha256=HEX, el HMAC-SHA256 del cuerpo exacto de la petición con este secreto como clave. Compáralo en tiempo constante.
notify-kind = Canal
notify-kind-label-telegram = Telegram
notify-kind-label-discord = Discord
notify-kind-label-email = Correo
notify-kind-label-webhook = Webhook
notify-kind-hint-telegram = el bot y el chat de Ajustes
notify-kind-hint-discord = la URL de webhook de un canal
notify-kind-hint-email = una dirección; usa los ajustes de correo
notify-kind-hint-webhook = JSON firmado a tu URL
notify-off = Desactivado
notify-telegram-not-ready = El bot de Telegram aún no está configurado: añade su token y el chat en Ajustes.
notify-smtp-not-ready = El correo aún no está configurado: añade un servidor SMTP en Ajustes.
notify-send-test = Enviar una prueba
notify-test-failed = La prueba no llegó:
notify-new-secret = Nuevo secreto de firma
notify-new-secret-confirm = ¿Sustituir el secreto de firma? Tu receptor tendrá que usar el nuevo a partir de ahora.
notify-edit = Cambiar
notify-name = Nombre
notify-name-hint = p. ej. Discord de la familia
notify-url = URL del webhook (canales de Discord y webhook)
notify-url-hint = Discord: ajustes del canal → Integraciones → Webhooks → Copiar URL del webhook. Se guarda cifrada y no se vuelve a mostrar.
notify-url-discord = URL del webhook de Discord (vacía conserva la actual)
notify-url-webhook = URL del receptor (vacía conserva la actual)
notify-address = Dirección de correo (canales de correo)
notify-address-hint = Adónde van los mensajes.
notify-events = Eventos
notify-telegram-requests = El bot de Telegram ya anuncia las solicitudes nuevas con botones de Aprobar y Rechazar, así que los canales de Telegram no ofrecen ese evento.
notify-language = Idioma de los mensajes
notify-enabled = Enviar mensajes por este canal
notify-delete = Eliminar canal
notify-delete-confirm = Sí, eliminar «{ $name }» y sus mensajes pendientes
notify-delete-unconfirmed = Marca la casilla para confirmar la eliminación.
notify-none = Aún no hay canales. Añade uno abajo.
notify-add = Añadir canal
notify-deliveries = Últimos mensajes
notify-deliveries-hint = Un mensaje que no se puede entregar se vuelve a intentar, esperando más cada vez, hasta { $attempts } veces.
notify-col-when = Cuándo
notify-col-to = Para
notify-col-event = Evento
notify-col-state = Estado
notify-state-queued = En espera
notify-state-sending = Enviando
notify-state-sent = Enviado
notify-state-failed = Fallido
notify-attempts = { $count } intentos
notify-next-try = próximo intento { $when }
notify-no-deliveries = Aún no se ha enviado nada.
notify-bad-url = Escribe la URL completa, empezando por https:// (o http:// en tu propia red).
notify-bad-event = Ese evento no se puede elegir para este canal.
notify-no-events = Marca al menos un evento.
notify-bad-name = El nombre tiene como máximo 60 caracteres en una línea.
notify-bad-kind = Elige Telegram, Discord, correo o webhook.
notify-bad-address = Escribe una dirección de correo como tu@ejemplo.com.

## Ajustes
settings-notifications = Notificaciones
settings-notifications-hint = Canales de Telegram, Discord, correo y webhook, y qué eventos recibe cada uno.
settings-notifications-open = Gestionar notificaciones

## Eventos que un canal puede elegir
notify-kind-request-created = Solicitud nueva
notify-kind-request-approved = Solicitud aprobada
notify-kind-request-declined = Solicitud rechazada
notify-kind-invite-redeemed = Invitación usada
notify-kind-provisioning-failed = Falló la configuración del acceso
notify-kind-member-expiring = Acceso a punto de terminar
notify-kind-member-expired = Acceso caducado
notify-kind-member-removed = Miembro quitado de un servidor
notify-kind-removal-failing = La retirada sigue fallando
notify-kind-sync-drift = La sincronización encontró cambios
notify-kind-admin-signed_in_new_device = Un administrador entró desde un dispositivo nuevo
notify-kind-test = Prueba

## Mensajes
notify-open = Abrir en usher
notify-summary-request-created = Nueva solicitud de acceso de { $name }
notify-summary-request-approved = { $by } aprobó la solicitud de { $name }
notify-summary-request-declined = { $by } rechazó la solicitud de { $name }
notify-summary-invite-redeemed = { $member } se unió con la invitación { $code }
notify-summary-provisioning-failed = No se pudo configurar el acceso de { $member } en { $server }: { $error }
notify-summary-member-expiring = El acceso de { $member } a { $server } termina el { $expires_at }
notify-summary-member-expired = El acceso de { $member } a { $server } caducó; usher { $action ->
    [remove] lo está quitando
   *[other] lo está pausando
}
notify-summary-member-removed = { $member } ya no tiene acceso a { $server }
notify-summary-removal-failing = { $job ->
    [disable] Pausar
   *[other] Quitar
} a { $member } en { $server } sigue fallando; usher lo sigue intentando
notify-summary-sync-drift = Sincronización de { $server }: { $imported_count } nuevos en el servidor, { $gone_count } ya no están
notify-summary-admin-signed_in_new_device = { $admin } inició sesión desde un dispositivo que no se había visto
notify-summary-test = Prueba de usher: el canal «{ $channel }» funciona.
notify-field-name = Nombre
notify-field-email = Correo
notify-field-note = Nota
notify-field-access = Acceso
notify-field-by = Por
notify-field-reason = Motivo
notify-field-member = Miembro
notify-field-code = Invitación
notify-field-servers = Servidores
notify-field-server = Servidor
notify-field-error = Error
notify-field-expires-at = Termina
notify-field-imported = Nuevos en el servidor
notify-field-gone = Ya no están en el servidor
notify-field-channel = Canal
notify-field-admin = Administrador
notify-field-device = Dispositivo
notify-field-address = Dirección

## Correos a miembros
notify-person-member-expiring-subject = Tu acceso a { $server } termina pronto
notify-person-member-expiring-body = Hola, { $name }:

    tu acceso a { $server } termina el { $expires_at }.

    Si quieres seguir viendo, pide a quien te invitó que lo amplíe.

notify-person-request-approved-subject = Tu acceso fue aprobado
notify-person-request-approved-body = Hola, { $name }:

    tu solicitud fue aprobada. Ahora tienes acceso a: { $access }.{ $how ->
        [plex] {"\u000A\u000A"}Plex te enviará una invitación por correo: acéptala, abre Plex y verás las bibliotecas compartidas.
        [invite] {"\u000A\u000A"}Crea tu cuenta aquí (el enlace funciona una vez, durante 7 días): { $url }
        [both] {"\u000A\u000A"}Plex te enviará una invitación por correo: acéptala, abre Plex y verás las bibliotecas compartidas.{"\u000A\u000A"}Para los demás servidores, crea tu cuenta aquí (el enlace funciona una vez, durante 7 días): { $url }
       *[none] {""}
    }
notify-person-request-declined-subject = Sobre tu solicitud de acceso
notify-person-request-declined-body = Hola, { $name }:

    tu solicitud de acceso fue rechazada.{ $has_reason ->
        [yes] {"\u000A\u000A"}Motivo: { $reason }
       *[no] {""}
    }
notify-person-invite-redeemed-subject = Bienvenido a { $servers }
notify-person-invite-redeemed-body = Hola, { $name }:

    ¡bienvenido! Ya tienes acceso a { $servers }. Dónde verlo:

    { $places }{ $plex ->
        [yes] {"\u000A\u000A"}Plex te enviará una invitación por correo: acéptala, abre Plex y verás las bibliotecas compartidas.
       *[no] {""}
    }

    Ayuda paso a paso para cada aplicación: { $guide }

## Registro de eventos
events-title = Eventos
events-export = Descargar CSV
events-filter-actor = Quién
events-filter-action = Qué
events-filter-member = Miembro
events-filter-member-hint = nombre, correo o #id
events-filter-from = Desde
events-filter-to = Hasta
events-clear = Ver todos los eventos
events-newer = Más recientes
events-older = Más antiguos
events-newest = Lo último
events-none-match = Ningún evento coincide con estos filtros.
events-empty = Aún no ha pasado nada. Aquí aparecerán invitaciones, solicitudes, cambios y fallos.
events-bad-action = Elige una acción de la lista.
events-bad-server = Elige un servidor de la lista.
events-bad-date = Las fechas se escriben así: 2026-11-22.
events-bad-range = La fecha final no puede ser anterior a la inicial.
events-all = Todos los eventos
