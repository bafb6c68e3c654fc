# Miembros: la lista, la página de un miembro, caducidad y sincronización.

nav-members = Miembros

## La lista
members-title = Miembros
members-sync = Sincronizar con los servidores
members-notice-synced = Sincronización terminada: { $imported } importados, { $gone } ya no están en un servidor.
members-notice-sync-failed = { $failed ->
    [one] Un servidor no se pudo sincronizar; el motivo está abajo.
   *[other] { $failed } servidores no se pudieron sincronizar; los motivos están abajo.
}
members-sync-error = No se pudo sincronizar { $server }:
members-search = Nombre, correo, usuario o cuenta de Plex
members-search-submit = Buscar
members-filter-server = Servidor
members-filter-status = Estado
members-filter-origin = Origen
members-any = Todos
members-sort = Ordenar por
members-sort-name = Nombre
members-sort-created = Alta
members-sort-expires = Caducidad
members-order = Orden
members-order-asc = Ascendente
members-order-desc = Descendente
members-apply = Aplicar
members-pages = Páginas
members-prev = Anterior
members-next = Siguiente
members-page-of = Página { $page } de { $pages }
members-none-match = Ningún miembro coincide con estos filtros.
members-empty-title = Aún no hay miembros
members-empty-body = Los miembros aparecen cuando alguien canjea una invitación. Quienes ya tienen acceso a tus servidores aparecen tras sincronizar.

## Estados, orígenes y marcas
member-status-active = Activo
member-status-pending = Invitación sin aceptar
member-status-provisioning = Preparándose
member-status-disabled = En pausa
member-status-removed = Eliminado
member-status-failed = Falló la preparación
member-status-failing = Con fallos
member-status-gone = Ya no está en el servidor
member-origin-invite = Invitación
member-origin-request = Solicitud
member-origin-imported = Importado
member-origin = Origen
member-gone = Ya no está en el servidor
member-gone-hint = La última sincronización ({ $when }) no encontró este acceso en el servidor. Quizá se eliminó allí; el historial se conserva.
member-created = alta { $when }
member-expires = caduca { $when }
member-no-expiry = No caduca
member-no-access = Sin acceso
member-expired = Caducado
member-failing-remove = Falla la eliminación: { $reason }
member-failing-disable = Falla la pausa: { $reason }
member-failing-enable = Falla la reanudación: { $reason }
member-failing-update = Falla el cambio: { $reason }
member-failing-provision = Falla la preparación: { $reason }
member-failing-hint = usher sigue intentándolo con pausas crecientes (como mucho una hora) hasta que el servidor lo confirme.
member-job-remove = Eliminación en curso.
member-job-disable = Pausa en curso.
member-job-enable = Reanudación en curso.
member-job-update = Cambio en curso.
member-job-provision = Preparación en curso.
member-last-error = El último cambio fue rechazado: { $reason }

## Página de un miembro
member-email = Correo
member-plex-account = Cuenta de Plex
member-username = Usuario
member-account = Cuenta
member-since = Desde
member-expiry = El acceso termina
member-reminded = Recordatorio registrado
member-expiry-title = Cuándo termina el acceso
member-expiry-date = Fecha
member-expiry-time = Hora (UTC)
member-expiry-time-hint = Las horas están en { $zone }. Sin hora, el acceso dura hasta el final de ese día.
member-expiry-set = Guardar fecha
member-expiry-extend = Ampliar 30 días
member-expiry-clear = Sin caducidad
member-libraries = Bibliotecas
member-permissions = Permisos
member-access-save = Guardar acceso
member-disable = Pausar acceso
member-enable = Reanudar acceso
member-enable-expired = El acceso caducó: pon una fecha posterior antes de reanudarlo.
member-no-disable = { $kind } no puede pausar un acceso; elimínalo en su lugar.
member-remove-title = Eliminar de { $server }
member-remove-body = La cuenta o el acceso compartido se elimina en el servidor. El miembro sigue en la lista, con su historial, hasta que el servidor lo confirme.
member-remove-confirm = Sí, eliminar el acceso en { $server }
member-remove-submit = Eliminar
member-notes = Notas
member-notes-save = Guardar notas
member-history = Historial
member-no-history = Aún no hay nada registrado.
member-notice-saved = Acceso cambiado en el servidor.
member-notice-queued = El servidor aún no lo confirmó; usher sigue intentándolo.
member-notice-expiry = Caducidad guardada.
member-notice-notes = Notas guardadas.
member-notice-disabled = Acceso en pausa.
member-notice-enabled = Acceso reanudado.
member-notice-removed = Acceso eliminado.

## Errores
member-grant-not-live = Este acceso no está (ya) en el servidor, así que no se puede cambiar.
member-grant-removing = Este acceso se está eliminando.
member-no-library = Elige al menos una biblioteca. Para terminar el acceso, elimínalo.
member-bad-max-sessions = Las reproducciones simultáneas son un número de 1 a 100, o vacío para no limitar.
member-unknown-library = Esa biblioteca no se ofrece en este servidor. Vuelve a leer el servidor e inténtalo de nuevo.
member-no-live-access = Este miembro no tiene ningún acceso que cambiar.
member-cannot-disable = Este servidor no puede pausar un acceso. Elimínalo en su lugar.
member-grant-not-active = Solo se puede pausar un acceso activo.
member-grant-not-disabled = Este acceso no está en pausa.
member-grant-already-removed = Este acceso ya se eliminó.
member-notes-too-long = Las notas tienen como mucho 2000 caracteres.
member-date-required = Elige una fecha.
member-bad-date = Eso no es una fecha (usa el selector o escribe 2026-12-31).
member-date-past = Esa fecha ya pasó.
member-bad-expiry-action = Elige guardar una fecha, ampliar o quitar la caducidad.
member-remove-unconfirmed = Marca la casilla para confirmar la eliminación.

## Servidores: sincronización y caducidad
server-synced = Última sincronización
server-never-synced = Nunca
server-sync-error = La última sincronización falló:
server-sync = Sincronizar cuentas
server-members = Miembros
server-notice-expiry = Ajuste de caducidad guardado.
server-notice-synced = Cuentas sincronizadas.
server-notice-sync-failed = La sincronización falló. El motivo está abajo.
server-expiry-title = Cuando caduca el acceso
server-expiry-legend = Cuando caduca el acceso de un miembro a este servidor
server-expiry-disable = Pausar la cuenta (se puede reanudar)
server-expiry-disable_then_remove = Pausarla y eliminarla tras unos días
server-expiry-remove = Eliminar la cuenta
server-expiry-days = Días entre la pausa y la eliminación
server-expiry-save = Guardar
server-expiry-remove-only = { $kind } no puede pausar un acceso: cuando caduca, se elimina.
server-expiry-bad-action = Elige qué pasa cuando caduca el acceso.
server-expiry-bad-days = Los días antes de eliminar son un número de 0 a 3650.
member-bad-filter = La lista de miembros no tiene ese filtro.
