"""The Studio's labels in English and Spanish: one dictionary per language, same keys.

Templates call ``t("key", name=value)`` (``str.format`` placeholders); page scripts get the
``js.*`` entries as JSON and fill ``{name}`` placeholders themselves. A test checks that both
languages have the same keys and that every key used in templates and scripts exists.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    "app.name": "Rostro Studio",
    "app.footer": "Rostro {version} · a local Face API: no photo leaves this machine.",
    "nav.skip": "Skip to content",
    "nav.label": "Main",
    "nav.resources": "Resources",
    "nav.try": "Try it",
    "nav.people": "People",
    "nav.apidocs": "API description (OpenAPI)",
    "nav.language": "Language",
    "nav.signout": "Sign out",
    "nav.back_resources": "Back to resources",
    "login.title": "Sign in to Rostro Studio",
    "login.user": "User",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.hint": "The admin password was printed once by `rostro serve` on its first start. "
                  "Change it with `rostro admin password`.",
    "login.no_admin": "No admin password has been set yet: start `rostro serve` once, or run "
                      "`rostro admin password`.",
    "login.wrong": "Wrong password.",
    "login.expired": "The sign-in form expired. Please try again.",
    "login.locked": "Too many failed attempts. Wait a few minutes and try again.",
    "csrf.title": "Request refused",
    "csrf.message": "This form was not sent by this Studio page (missing or wrong security "
                    "token). Reload the page and try again.",
    "resources.title": "Resources",
    "resources.lead": "Each Face resource has a pricing tier, two keys and its own usage, as in "
                      "the Azure portal.",
    "resources.caption": "{count} resources",
    "resources.name": "Name",
    "resources.name_hint": "2 to 64 letters, digits or hyphens.",
    "resources.tier": "Pricing tier",
    "resources.description": "Description",
    "resources.optional": "optional",
    "resources.calls_month": "Calls this month",
    "resources.created_at": "Created",
    "resources.actions": "Actions",
    "resources.delete": "Delete",
    "resources.delete_named": "Delete {name}",
    "resources.create": "Create a resource",
    "resources.create_button": "Create",
    "resources.created": "Resource {name} created. Its keys and endpoint are below.",
    "resources.deleted": "Resource {name} deleted.",
    "resources.bad_name": "“{name}” is not a valid name: use 2 to 64 letters, digits or hyphens, "
                          "starting with a letter or digit.",
    "resources.bad_tier": "Choose the F0 or S0 pricing tier.",
    "resources.exists": "A resource named “{name}” already exists.",
    "resources.not_found_title": "Resource not found",
    "resources.not_found": "There is no resource named “{name}”.",
    "tier.F0": "Free: 20 calls per minute, 30,000 calls per month",
    "tier.S0": "Standard: 10 calls per second, no monthly quota",
    "keys.title": "Keys and Endpoint",
    "keys.hint": "Either key works. Regenerate one while clients use the other, then switch.",
    "keys.key": "KEY {n}",
    "keys.show": "Show",
    "keys.copy": "Copy",
    "keys.regenerate": "Regenerate key {n}",
    "keys.regenerated": "Key {n} was regenerated. The old key {n} no longer works.",
    "keys.region": "Location/Region",
    "keys.endpoint": "Endpoint",
    "keys.notebook": "Open a notebook with this key",
    "keys.notebook_hint": "Starts JupyterLab with ROSTRO_ENDPOINT and ROSTRO_KEY set for this "
                          "resource (needs the notebook extra: pip install 'rostro[notebook]').",
    "sensitive.title": "Sensitive attributes",
    "sensitive.hint": "Age, gender and emotion. When they are off, Detect refuses them with "
                      "Azure's 403 UnsupportedFeature; every other attribute keeps working.",
    "sensitive.on": "On: age, gender and emotion are answered.",
    "sensitive.off": "Off: age, gender and emotion are refused.",
    "sensitive.turn_on": "Turn on",
    "sensitive.turn_off": "Turn off",
    "sensitive.changed_on": "Sensitive attributes are on.",
    "sensitive.changed_off": "Sensitive attributes are off.",
    "usage.title": "Usage",
    "usage.month_used": "Calls this month",
    "usage.month_total": "Monthly quota",
    "usage.month_remaining": "Remaining",
    "usage.rate": "Calls {window}",
    "usage.per_minute": "this minute",
    "usage.per_second": "this second",
    "usage.unlimited": "unlimited",
    "usage.meter": "{used} of {total} calls used this month",
    "usage.resets": "The monthly count starts again on {date}.",
    "usage.chart_title": "Requests per minute, last hour (red: with errors)",
    "usage.bar": "{time} UTC: {calls} requests, {errors} with errors",
    "usage.axis": "time (UTC)",
    "usage.errors_title": "Errors, last hour",
    "usage.requests": "Requests",
    "usage.client_errors": "Client errors (4xx)",
    "usage.throttled": "Refused by the tier (429/403)",
    "usage.server_errors": "Server errors (5xx)",
    "usage.error_rate": "Error rate",
    "usage.errors_hint": "Requests with a wrong or missing key belong to no resource and are "
                         "not counted here.",
    "confirm.type_name": "Type {name} to confirm",
    "confirm.cancel": "Cancel",
    "confirm.delete_title": "Delete resource {name}?",
    "confirm.delete_message": "Its keys stop working at once, and its usage, faceIds and "
                              "everything it stored are deleted. This cannot be undone.",
    "confirm.delete_button": "Delete resource",
    "confirm.mismatch": "The name you typed does not match.",
    "confirm.regenerate_title": "Regenerate key {n}?",
    "confirm.regenerate_message": "Clients using key {n} of {name} will get 401 until they use "
                                  "the new key. Key {other} keeps working.",
    "try.title": "Try it",
    "try.lead": "Detect faces in a photo with one of your resources and see what the API "
                "answers.",
    "try.no_resources": "Create a resource first.",
    "try.resource": "Resource",
    "try.counts": "Each run is a real Face API call with this resource's key 1: it counts "
                  "towards its usage and tier limits.",
    "try.image": "Image",
    "try.from_file": "Upload a file",
    "try.from_url": "Image URL",
    "try.file_label": "Photo (JPEG, PNG, GIF or BMP, 1 KB to 6 MB)",
    "try.drop_hint": "…or drop it here.",
    "try.url_label": "Image URL (http or https)",
    "try.attributes": "What to return",
    "try.landmarks": "Face landmarks (27 points)",
    "try.unavailable": "not available in this installation",
    "try.run": "Detect faces",
    "try.results": "Result",
    "try.photo_alt": "The photo with the detected faces outlined",
    "try.table": "Attributes per face",
    "try.rectangle": "Face rectangle",
    "try.attribute": "Attribute",
    "try.value": "Value",
    "try.json": "Raw JSON",
    "try.snippets": "The same call from your code",
    "try.snippets_hint": "With this resource's endpoint and key filled in.",
    "people.title": "People",
    "people.lead": "Person groups and large person groups: add people and their faces, train, "
                   "then identify who is in a photo.",
    "people.open_resource": "Open",
    "people.counts": "Every action here is a Face API call with this resource's key 1 and "
                     "counts towards its usage (S0 suits bulk enrolment).",
    "people.kind": "Kind",
    "people.kind_persongroups": "Person groups",
    "people.kind_largepersongroups": "Large person groups",
    "people.group_id": "Group ID",
    "people.group_id_hint": "Lowercase letters, digits, '-' or '_', up to 64.",
    "people.name": "Name",
    "people.recognition_model": "Recognition model",
    "people.loading": "Loading…",
    "people.create_group": "Create a group",
    "people.create_group_button": "Create group",
    "people.training": "Training",
    "people.training_status": "Status",
    "people.train": "Train",
    "people.delete_group": "Delete group",
    "people.persons": "Persons",
    "people.person_id": "Person ID",
    "people.faces": "Faces",
    "people.page": "Page {n}",
    "people.pages": "Pages",
    "people.first_page": "First page",
    "people.next_page": "Next page",
    "people.add_person_label": "New person's name",
    "people.add_person": "Add person",
    "people.identify": "Identify",
    "people.identify_hint": "Detects the faces of a photo and looks them up among the persons "
                           "of this group as it was last trained.",
    "people.identify_label": "Photo to identify",
    "people.identify_alt": "The photo with each face labelled with its best candidate",
    "people.candidate": "Candidate",
    "people.confidence": "Confidence",
    "people.faces_label": "Add face photos (one face per photo; several files at once)",
    "people.faces_hint": "…or drop them here.",
    "people.retrain_hint": "New faces are used by Identify after the group is trained again.",
    "people.delete_person": "Delete person",
    "js.copied": "Copied",
    "js.copy_failed": "Could not copy: select the text and copy it",
    "js.show": "Show",
    "js.hide": "Hide",
    "js.working": "Working…",
    "js.failed": "Failed: {message}",
    "js.rate_wait": "Rate limit reached: trying again in {seconds} s…",
    "js.need_url": "Type an image URL first.",
    "js.need_file": "Choose a photo first.",
    "js.one_face": "1 face found.",
    "js.faces": "{n} faces found.",
    "js.no_groups": "No groups yet.",
    "js.no_persons": "No persons on this page.",
    "js.open": "Open",
    "js.delete": "Delete",
    "js.delete_named": "Delete {name}",
    "js.confirm_delete_person": "Delete {name} and their faces?",
    "js.confirm_delete_group": "Delete group {name} with all its persons and faces?",
    "js.group_meta": "Recognition model: {model}",
    "js.training_notstarted": "Not trained",
    "js.training_running": "Training…",
    "js.training_succeeded": "Trained",
    "js.training_failed": "Training failed",
    "js.last_action": "(last change {time})",
    "js.unknown": "Unknown",
    "js.uploading": "uploading…",
    "js.uploaded": "added ({id})",
    "js.uploads_done": "{n} files processed.",
}

ES: dict[str, str] = {
    "app.name": "Rostro Studio",
    "app.footer": "Rostro {version} · una Face API local: ninguna foto sale de este equipo.",
    "nav.skip": "Saltar al contenido",
    "nav.label": "Principal",
    "nav.resources": "Recursos",
    "nav.try": "Probar",
    "nav.people": "Personas",
    "nav.apidocs": "Descripción de la API (OpenAPI)",
    "nav.language": "Idioma",
    "nav.signout": "Cerrar sesión",
    "nav.back_resources": "Volver a los recursos",
    "login.title": "Iniciar sesión en Rostro Studio",
    "login.user": "Usuario",
    "login.password": "Contraseña",
    "login.submit": "Entrar",
    "login.hint": "`rostro serve` mostró la contraseña de administrador una sola vez, en su "
                  "primer arranque. Cámbiala con `rostro admin password`.",
    "login.no_admin": "Todavía no hay contraseña de administrador: arranca `rostro serve` una "
                      "vez o ejecuta `rostro admin password`.",
    "login.wrong": "Contraseña incorrecta.",
    "login.expired": "El formulario de inicio de sesión caducó. Vuelve a intentarlo.",
    "login.locked": "Demasiados intentos fallidos. Espera unos minutos y vuelve a intentarlo.",
    "csrf.title": "Solicitud rechazada",
    "csrf.message": "Este formulario no lo envió una página de este Studio (falta el token de "
                    "seguridad o no es válido). Recarga la página y vuelve a intentarlo.",
    "resources.title": "Recursos",
    "resources.lead": "Cada recurso de Face tiene un plan de tarifa, dos claves y su propio uso, "
                      "como en el portal de Azure.",
    "resources.caption": "{count} recursos",
    "resources.name": "Nombre",
    "resources.name_hint": "De 2 a 64 letras, cifras o guiones.",
    "resources.tier": "Plan de tarifa",
    "resources.description": "Descripción",
    "resources.optional": "opcional",
    "resources.calls_month": "Llamadas este mes",
    "resources.created_at": "Creado",
    "resources.actions": "Acciones",
    "resources.delete": "Eliminar",
    "resources.delete_named": "Eliminar {name}",
    "resources.create": "Crear un recurso",
    "resources.create_button": "Crear",
    "resources.created": "Recurso {name} creado. Sus claves y su punto de conexión están abajo.",
    "resources.deleted": "Recurso {name} eliminado.",
    "resources.bad_name": "«{name}» no es un nombre válido: usa de 2 a 64 letras, cifras o "
                          "guiones, empezando por una letra o cifra.",
    "resources.bad_tier": "Elige el plan de tarifa F0 o S0.",
    "resources.exists": "Ya existe un recurso llamado «{name}».",
    "resources.not_found_title": "Recurso no encontrado",
    "resources.not_found": "No hay ningún recurso llamado «{name}».",
    "tier.F0": "Gratis: 20 llamadas por minuto, 30 000 llamadas al mes",
    "tier.S0": "Estándar: 10 llamadas por segundo, sin cuota mensual",
    "keys.title": "Claves y punto de conexión",
    "keys.hint": "Cualquiera de las dos claves sirve. Regenera una mientras los clientes usan "
                 "la otra y después cambia.",
    "keys.key": "CLAVE {n}",
    "keys.show": "Mostrar",
    "keys.copy": "Copiar",
    "keys.regenerate": "Regenerar la clave {n}",
    "keys.regenerated": "Se regeneró la clave {n}. La clave {n} anterior ya no funciona.",
    "keys.region": "Ubicación/Región",
    "keys.endpoint": "Punto de conexión",
    "keys.notebook": "Abrir un cuaderno con esta clave",
    "keys.notebook_hint": "Arranca JupyterLab con ROSTRO_ENDPOINT y ROSTRO_KEY de este recurso "
                          "(necesita el extra notebook: pip install 'rostro[notebook]').",
    "sensitive.title": "Atributos sensibles",
    "sensitive.hint": "Edad, género y emoción. Desactivados, Detect los rechaza con el 403 "
                      "UnsupportedFeature de Azure; los demás atributos siguen funcionando.",
    "sensitive.on": "Activados: se responden la edad, el género y la emoción.",
    "sensitive.off": "Desactivados: se rechazan la edad, el género y la emoción.",
    "sensitive.turn_on": "Activar",
    "sensitive.turn_off": "Desactivar",
    "sensitive.changed_on": "Los atributos sensibles están activados.",
    "sensitive.changed_off": "Los atributos sensibles están desactivados.",
    "usage.title": "Uso",
    "usage.month_used": "Llamadas este mes",
    "usage.month_total": "Cuota mensual",
    "usage.month_remaining": "Restantes",
    "usage.rate": "Llamadas {window}",
    "usage.per_minute": "en este minuto",
    "usage.per_second": "en este segundo",
    "usage.unlimited": "ilimitada",
    "usage.meter": "{used} de {total} llamadas usadas este mes",
    "usage.resets": "El recuento mensual vuelve a empezar el {date}.",
    "usage.chart_title": "Solicitudes por minuto, última hora (en rojo: con error)",
    "usage.bar": "{time} UTC: {calls} solicitudes, {errors} con error",
    "usage.axis": "hora (UTC)",
    "usage.errors_title": "Errores, última hora",
    "usage.requests": "Solicitudes",
    "usage.client_errors": "Errores del cliente (4xx)",
    "usage.throttled": "Rechazadas por el plan (429/403)",
    "usage.server_errors": "Errores del servidor (5xx)",
    "usage.error_rate": "Tasa de errores",
    "usage.errors_hint": "Las solicitudes con una clave incorrecta o sin clave no pertenecen a "
                         "ningún recurso y no se cuentan aquí.",
    "confirm.type_name": "Escribe {name} para confirmar",
    "confirm.cancel": "Cancelar",
    "confirm.delete_title": "¿Eliminar el recurso {name}?",
    "confirm.delete_message": "Sus claves dejan de funcionar al momento y se borran su uso, sus "
                              "faceIds y todo lo que guardó. No se puede deshacer.",
    "confirm.delete_button": "Eliminar el recurso",
    "confirm.mismatch": "El nombre escrito no coincide.",
    "confirm.regenerate_title": "¿Regenerar la clave {n}?",
    "confirm.regenerate_message": "Los clientes que usan la clave {n} de {name} recibirán 401 "
                                  "hasta que usen la nueva. La clave {other} sigue funcionando.",
    "try.title": "Probar",
    "try.lead": "Detecta las caras de una foto con uno de tus recursos y mira lo que responde "
                "la API.",
    "try.no_resources": "Crea antes un recurso.",
    "try.resource": "Recurso",
    "try.counts": "Cada prueba es una llamada real a la Face API con la clave 1 de este "
                  "recurso: cuenta en su uso y en los límites de su plan.",
    "try.image": "Imagen",
    "try.from_file": "Subir un archivo",
    "try.from_url": "URL de la imagen",
    "try.file_label": "Foto (JPEG, PNG, GIF o BMP, de 1 KB a 6 MB)",
    "try.drop_hint": "…o suéltala aquí.",
    "try.url_label": "URL de la imagen (http o https)",
    "try.attributes": "Qué devolver",
    "try.landmarks": "Puntos de referencia de la cara (27)",
    "try.unavailable": "no disponible en esta instalación",
    "try.run": "Detectar caras",
    "try.results": "Resultado",
    "try.photo_alt": "La foto con las caras detectadas recuadradas",
    "try.table": "Atributos por cara",
    "try.rectangle": "Rectángulo de la cara",
    "try.attribute": "Atributo",
    "try.value": "Valor",
    "try.json": "JSON sin procesar",
    "try.snippets": "La misma llamada desde tu código",
    "try.snippets_hint": "Con el punto de conexión y la clave de este recurso ya puestos.",
    "people.title": "Personas",
    "people.lead": "Grupos de personas y grupos grandes de personas: añade personas y sus "
                   "caras, entrena y luego identifica quién aparece en una foto.",
    "people.open_resource": "Abrir",
    "people.counts": "Cada acción de esta página es una llamada a la Face API con la clave 1 "
                     "de este recurso y cuenta en su uso (S0 conviene para altas masivas).",
    "people.kind": "Tipo",
    "people.kind_persongroups": "Grupos de personas",
    "people.kind_largepersongroups": "Grupos grandes de personas",
    "people.group_id": "ID del grupo",
    "people.group_id_hint": "Minúsculas, cifras, '-' o '_', hasta 64.",
    "people.name": "Nombre",
    "people.recognition_model": "Modelo de reconocimiento",
    "people.loading": "Cargando…",
    "people.create_group": "Crear un grupo",
    "people.create_group_button": "Crear grupo",
    "people.training": "Entrenamiento",
    "people.training_status": "Estado",
    "people.train": "Entrenar",
    "people.delete_group": "Eliminar el grupo",
    "people.persons": "Personas",
    "people.person_id": "ID de la persona",
    "people.faces": "Caras",
    "people.page": "Página {n}",
    "people.pages": "Páginas",
    "people.first_page": "Primera página",
    "people.next_page": "Página siguiente",
    "people.add_person_label": "Nombre de la nueva persona",
    "people.add_person": "Añadir persona",
    "people.identify": "Identificar",
    "people.identify_hint": "Detecta las caras de una foto y las busca entre las personas de "
                            "este grupo tal como quedó en su último entrenamiento.",
    "people.identify_label": "Foto que identificar",
    "people.identify_alt": "La foto con cada cara etiquetada con su mejor candidato",
    "people.candidate": "Candidato",
    "people.confidence": "Confianza",
    "people.faces_label": "Añadir fotos de la cara (una cara por foto; varios archivos a la vez)",
    "people.faces_hint": "…o suéltalas aquí.",
    "people.retrain_hint": "Identificar usa las caras nuevas después de volver a entrenar el "
                           "grupo.",
    "people.delete_person": "Eliminar la persona",
    "js.copied": "Copiado",
    "js.copy_failed": "No se pudo copiar: selecciona el texto y cópialo",
    "js.show": "Mostrar",
    "js.hide": "Ocultar",
    "js.working": "Procesando…",
    "js.failed": "Error: {message}",
    "js.rate_wait": "Límite de llamadas alcanzado: se reintenta en {seconds} s…",
    "js.need_url": "Escribe antes la URL de una imagen.",
    "js.need_file": "Elige antes una foto.",
    "js.one_face": "1 cara encontrada.",
    "js.faces": "{n} caras encontradas.",
    "js.no_groups": "Todavía no hay grupos.",
    "js.no_persons": "No hay personas en esta página.",
    "js.open": "Abrir",
    "js.delete": "Eliminar",
    "js.delete_named": "Eliminar a {name}",
    "js.confirm_delete_person": "¿Eliminar a {name} y sus caras?",
    "js.confirm_delete_group": "¿Eliminar el grupo {name} con todas sus personas y caras?",
    "js.group_meta": "Modelo de reconocimiento: {model}",
    "js.training_notstarted": "Sin entrenar",
    "js.training_running": "Entrenando…",
    "js.training_succeeded": "Entrenado",
    "js.training_failed": "El entrenamiento falló",
    "js.last_action": "(último cambio {time})",
    "js.unknown": "Desconocido",
    "js.uploading": "subiendo…",
    "js.uploaded": "añadida ({id})",
    "js.uploads_done": "{n} archivos procesados.",
}

CATALOGUES = {"en": EN, "es": ES}


def catalogue(lang: str) -> dict[str, str]:
    """Return the labels of ``lang`` (English for an unknown language)."""
    return CATALOGUES.get(lang, EN)


def translator(lang: str) -> Callable[..., str]:
    """Return ``t(key, **values)`` for ``lang``: the label with its placeholders filled; a
    key missing from ``lang`` falls back to English, then to the key itself."""
    labels = catalogue(lang)

    def t(key: str, **values: object) -> str:
        text = labels.get(key) or EN.get(key) or key
        return text.format(**values) if values else text

    return t


def format_number(value: int, lang: str) -> str:
    """Return ``value`` with the language's digit grouping: 30,000 or 30 000."""
    text = f"{value:,}"
    return text.replace(",", "\u00a0") if lang == "es" else text


def format_percent(fraction: float, lang: str) -> str:
    """Return ``fraction`` as a percentage with one decimal: 12.5 % or 12,5 %."""
    text = f"{100 * fraction:.1f}\u00a0%"
    return text.replace(".", ",") if lang == "es" else text


def pick_language(cookie: str | None, accept_language: str) -> str:
    """The language chosen in the Studio (cookie), else the browser's first known one."""
    if cookie in CATALOGUES:
        return cookie
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in CATALOGUES:
            return code
    return DEFAULT_LANGUAGE
