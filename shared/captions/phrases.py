"""The local writer's phrases per language and tone: hooks, calls to action, questions.

Languages without phrases here get captions built from the user's own words and
emoji only, never phrases in another language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    hooks: dict[str, tuple[str, ...]]        # TikTok openers by tone
    save: dict[str, tuple[str, ...]]         # Instagram closing line by tone
    ask: dict[str, tuple[str, ...]]          # Facebook question by tone
    subscribe: dict[str, str]                # YouTube description closing line by tone
    offer: str                               # joins the brief: "{offer}: 20% off"


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        hooks={
            "friendly": ("You have to see this:", "Quick look:", "This made our day:"),
            "playful": ("Wait for it…", "POV:", "Not us obsessing over this:"),
            "professional": ("In a few seconds:", "Here's how it works:", "Quick demo:"),
            "bold": ("Stop scrolling.", "Don't miss this:", "This changes everything:"),
        },
        save={
            "friendly": ("Save this for later 📌", "Tag someone who'd love this 👇"),
            "playful": ("Tag your bestie 👇", "Send this to someone who needs it 😄"),
            "professional": ("Learn more via the link in our bio.", "Follow for more updates."),
            "bold": ("Don't wait: link in bio! 🔥", "Grab yours now 👉 link in bio"),
        },
        ask={
            "friendly": ("What do you think?", "Would you try this?", "Have you been by yet?"),
            "playful": ("Who's in? 🙌", "Be honest: would you?", "Tag a friend who'd love this!"),
            "professional": ("Questions? Send us a message.", "Let us know what you think in the comments."),
            "bold": ("Ready? Tell us below!", "Who's coming? 👇"),
        },
        subscribe={"friendly": "Subscribe for more!", "playful": "Subscribe for more 😄",
                   "professional": "Subscribe for more videos like this.", "bold": "Subscribe now for more!"},
        offer="Now",
    ),
    "de": Phrases(
        hooks={
            "friendly": ("Schau dir das an:", "Kurz gezeigt:", "Das hat unseren Tag gemacht:"),
            "playful": ("Warte kurz…", "POV:", "Wir sind ein bisschen verliebt:"),
            "professional": ("In wenigen Sekunden:", "So funktioniert es:", "Kurze Demo:"),
            "bold": ("Nicht weiterscrollen.", "Verpass das nicht:", "Das ändert alles:"),
        },
        save={
            "friendly": ("Speicher dir das für später 📌", "Markiere jemanden, der das liebt 👇"),
            "playful": ("Markiere deine beste Freundin 👇", "Schick das jemandem, der es braucht 😄"),
            "professional": ("Mehr erfährst du über den Link in unserer Bio.", "Folge uns für mehr."),
            "bold": ("Nicht warten: Link in der Bio! 🔥", "Jetzt sichern 👉 Link in der Bio"),
        },
        ask={
            "friendly": ("Was meint ihr?", "Würdet ihr das probieren?", "Wart ihr schon bei uns?"),
            "playful": ("Wer ist dabei? 🙌", "Mal ehrlich: Würdet ihr?", "Markiert jemanden, der das liebt!"),
            "professional": ("Fragen? Schreibt uns gern.", "Sagt uns eure Meinung in den Kommentaren."),
            "bold": ("Bereit? Schreibt es unten!", "Wer kommt vorbei? 👇"),
        },
        subscribe={"friendly": "Abonniere für mehr!", "playful": "Abonnieren für mehr 😄",
                   "professional": "Abonniere den Kanal für mehr Videos wie dieses.", "bold": "Jetzt abonnieren!"},
        offer="Jetzt",
    ),
    "es": Phrases(
        hooks={
            "friendly": ("Tienes que ver esto:", "Un vistazo rápido:", "Esto nos alegró el día:"),
            "playful": ("Espera…", "POV:", "No podemos parar de verlo:"),
            "professional": ("En pocos segundos:", "Así funciona:", "Demostración rápida:"),
            "bold": ("Deja de deslizar.", "No te lo pierdas:", "Esto lo cambia todo:"),
        },
        save={
            "friendly": ("Guárdalo para después 📌", "Etiqueta a alguien a quien le encantaría 👇"),
            "playful": ("Etiqueta a tu mejor amiga 👇", "Mándaselo a quien lo necesite 😄"),
            "professional": ("Más información en el enlace de nuestra bio.", "Síguenos para más novedades."),
            "bold": ("No esperes: enlace en la bio 🔥", "Consíguelo ya 👉 enlace en la bio"),
        },
        ask={
            "friendly": ("¿Qué os parece?", "¿Lo probarías?", "¿Ya nos has visitado?"),
            "playful": ("¿Quién se apunta? 🙌", "Sé sincero: ¿lo harías?", "¡Etiqueta a quien le encantaría!"),
            "professional": ("¿Preguntas? Escríbenos.", "Cuéntanos tu opinión en los comentarios."),
            "bold": ("¿Listos? ¡Dínoslo abajo!", "¿Quién viene? 👇"),
        },
        subscribe={"friendly": "¡Suscríbete para ver más!", "playful": "Suscríbete para más 😄",
                   "professional": "Suscríbete para más vídeos como este.", "bold": "¡Suscríbete ya!"},
        offer="Ahora",
    ),
    "fr": Phrases(
        hooks={
            "friendly": ("Il faut que tu voies ça :", "Petit aperçu :", "Ça a fait notre journée :"),
            "playful": ("Attends…", "POV :", "On est un peu obsédés :"),
            "professional": ("En quelques secondes :", "Voici comment ça marche :", "Démo rapide :"),
            "bold": ("Arrête de scroller.", "À ne pas manquer :", "Ça change tout :"),
        },
        save={
            "friendly": ("Enregistre-le pour plus tard 📌", "Identifie quelqu'un qui va adorer 👇"),
            "playful": ("Identifie ta meilleure amie 👇", "Envoie ça à quelqu'un qui en a besoin 😄"),
            "professional": ("Plus d'infos via le lien dans notre bio.", "Suis-nous pour plus de nouveautés."),
            "bold": ("N'attends pas : lien en bio ! 🔥", "Fonce 👉 lien en bio"),
        },
        ask={
            "friendly": ("Qu'en pensez-vous ?", "Vous essaieriez ?", "Vous êtes déjà passés ?"),
            "playful": ("Qui est partant ? 🙌", "Soyez honnêtes : vous oseriez ?", "Identifiez un ami qui adorerait !"),
            "professional": ("Des questions ? Écrivez-nous.", "Dites-nous ce que vous en pensez en commentaire."),
            "bold": ("Prêts ? Dites-le-nous en commentaire !", "Qui vient ? 👇"),
        },
        subscribe={"friendly": "Abonne-toi pour en voir plus !", "playful": "Abonne-toi pour la suite 😄",
                   "professional": "Abonnez-vous pour plus de vidéos comme celle-ci.",
                   "bold": "Abonne-toi maintenant !"},
        offer="En ce moment",
    ),
}

# A keyword stem (in any of these languages) → the emoji that opens an Instagram caption.
EMOJI = (
    (("coffee", "kaffe", "cafe", "latte", "espresso", "barista", "cappuccino"), "☕"),
    (("fitness", "gym", "workout", "training", "yoga", "sport", "entrenamiento", "kraft"), "💪"),
    (("fashion", "dress", "kleid", "vestido", "mode", "moda", "robe", "outfit", "collection", "kollektion"), "👗"),
    (("bakery", "bread", "croissant", "backer", "brot", "panader", "boulanger", "pain", "cake", "kuchen"), "🥐"),
    (("pizza", "restaurant", "food", "essen", "comida", "menu", "dinner", "lunch", "burger"), "🍽️"),
    (("beauty", "skin", "makeup", "salon", "hair", "haar", "cabello", "peluquer", "nail"), "💄"),
    (("software", "app", "saas", "dashboard", "tech", "startup", "ki", "ai", "data", "cloud"), "💻"),
    (("travel", "hotel", "reise", "viaje", "voyage", "trip", "beach", "strand", "playa"), "✈️"),
    (("flower", "blume", "flor", "fleur", "garden", "garten", "jardin"), "💐"),
    (("dog", "hund", "perro", "chien", "pet", "cat", "katze", "gato"), "🐶"),
    (("home", "house", "haus", "casa", "maison", "plumb", "repair", "clean", "reinig", "limpieza"), "🏡"),
    (("sale", "offer", "rabatt", "angebot", "oferta", "descuento", "promo", "solde"), "🏷️"),
    (("music", "musik", "musica", "concert", "konzert", "song"), "🎵"),
    (("wine", "wein", "vino", "vin", "beer", "bier", "cerveza", "cocktail"), "🍷"),
)
DEFAULT_EMOJI = "✨"
