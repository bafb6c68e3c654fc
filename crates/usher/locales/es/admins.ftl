# Cuentas de administración: roles, la página de la cuenta, otros administradores.
settings-owner-only = Los ajustes del bot y del servidor de correo, los canales de avisos y las claves de API guardan secretos: solo el propietario los ve y los cambia.
role-owner = Propietario
role-admin = Administrador
role-approver = Aprobador
role-owner-hint = Todo, incluidos otros administradores y los secretos.
role-admin-hint = Todo menos otros administradores, secretos y copias de seguridad.
role-approver-hint = La cola de solicitudes (aquí y en Telegram) y la lista de miembros, solo lectura.
auth-last-owner = usher necesita un propietario: haz propietario a otro administrador primero.
auth-bad-role = El rol debe ser owner, admin o approver.
