skip-to-content = Ir al contenido
nav-label = Principal
nav-dashboard = Panel
nav-logout = Cerrar sesión ({ $name })
theme-label = Tema
theme-light = Claro
theme-dark = Oscuro
theme-auto = Como el sistema
language-label = Idioma

error-eyebrow = Error { $status }
error-home = Ir a la página de inicio
error-bad-request = No se pudo entender esa solicitud.
error-not-found = Aquí no hay nada. Revisa el enlace o vuelve a empezar desde la página de inicio.
error-csrf = Este formulario caducó o se envió desde otro sitio. Vuelve atrás, recarga la página e inténtalo de nuevo.
error-rate-limited = Demasiados intentos. Espera unos minutos y vuelve a intentarlo.
error-internal = Algo falló de nuestro lado. Inténtalo de nuevo; si sigue pasando, el dueño puede revisar el registro de usher.
error-unauthorized = Primero inicia sesión.
error-too-large = Eran demasiados datos para enviar de una vez.

setup-title = Te damos la bienvenida a usher
setup-intro = Crea la cuenta del dueño. La usarás para conectar servidores, invitar a amigos y aprobar solicitudes.
setup-password-hint = Al menos 10 caracteres. Unas cuantas palabras sin relación forman una contraseña fuerte.
setup-submit = Crear cuenta y continuar
setup-token-required = La configuración necesita el enlace de un solo uso que usher escribió en su registro al arrancar. Abre ese enlace o reinicia usher para obtener uno nuevo.
setup-already-done = La configuración ya está hecha. Inicia sesión.
setup-passwords-differ = Las dos contraseñas no coinciden. Escríbelas de nuevo.

field-username = Usuario
field-password = Contraseña
field-password-confirm = Repite la contraseña

auth-bad-username = El usuario debe tener de 1 a 64 caracteres: letras, números y . _ - @
auth-password-too-short = La contraseña debe tener al menos 10 caracteres.
auth-password-too-long = La contraseña debe tener como máximo 256 caracteres.
auth-username-taken = Ya existe un administrador con ese nombre.
auth-no-such-admin = No hay ningún administrador con ese nombre.

login-title = Iniciar sesión
login-needs-setup = Todavía no existe la cuenta del dueño. Abre el enlace de configuración que aparece en el registro de usher para crearla.
login-submit = Entrar
login-wrong = Usuario o contraseña incorrectos.
login-locked = Demasiados intentos fallidos. Esta cuenta está bloqueada { $minutes } minutos más.
login-too-many = Demasiados intentos de inicio de sesión desde tu red. Vuelve a intentarlo en { $minutes } minutos.

dashboard-title = Panel
dashboard-connect-title = Conecta tu primer servidor
dashboard-connect-body = Añade un servidor Plex, Jellyfin o Emby para que usher pueda compartir sus bibliotecas con tus amigos.
dashboard-connect-action = Conectar un servidor
dashboard-invite-title = Invita a alguien
dashboard-invite-body = Crea un enlace de invitación y envíaselo a un amigo: recibirá exactamente las bibliotecas que elijas.
dashboard-invite-after-server = Cuando haya un servidor conectado, podrás crear aquí enlaces de invitación para tus amigos.
dashboard-activity = Actividad reciente
dashboard-no-activity = Todavía no ha pasado nada.
