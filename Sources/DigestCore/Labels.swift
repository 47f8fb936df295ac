/// The fixed words of the templates ("By", "Top story", "Listen", the footer's sentences), in the
/// publication's language. Each language has a table; a publication overrides any word under `labels:`
/// in `publication.yaml`. Templates read them as `{{labels.NAME}}`.
public enum Labels {
    /// Every label's name, as `publication.yaml` writes it under `labels:`, in the order of the docs.
    public static let names = [
        "by", "top_story", "editors_note", "read_article", "podcast", "listen", "episode", "video", "watch_video",
        "empty_section", "issue", "hours", "minutes", "seconds", "daily", "weekly", "subscribed", "digest_of",
        "digest_of_possessive", "view_in_browser", "unsubscribe", "links", "to_unsubscribe",
    ]

    /// The languages with a table of their own; any other falls back to English.
    public static let languages = ["en", "ar", "fr", "de", "es"]

    static let english: [String: String] = [
        "by": "By", "top_story": "Top story", "editors_note": "Editor's note", "read_article": "Read the article",
        "podcast": "Podcast", "listen": "Listen", "episode": "Episode", "video": "Video",
        "watch_video": "Watch the video", "empty_section": "Nothing in this section today.", "issue": "No.",
        "hours": "h", "minutes": "min", "seconds": "s", "daily": "daily", "weekly": "weekly",
        "subscribed": "You receive this because you subscribed to {digest}.",
        "digest_of": "the {cadence} digest of {name}", "digest_of_possessive": "{name}'s {cadence} digest",
        "view_in_browser": "View this digest in your browser", "unsubscribe": "Unsubscribe", "links": "Links",
        "to_unsubscribe": "To unsubscribe, open:",
    ]

    static let tables: [String: [String: String]] = [
        "en": english,
        "ar": [
            "by": "بقلم", "top_story": "أبرز خبر", "editors_note": "ملاحظة المحرر", "read_article": "اقرأ المقال",
            "podcast": "بودكاست", "listen": "استمع", "episode": "الحلقة", "video": "فيديو",
            "watch_video": "شاهد الفيديو", "empty_section": "لا جديد في هذا القسم اليوم.", "issue": "العدد",
            "hours": "ساعة", "minutes": "دقيقة", "seconds": "ثانية", "daily": "اليومية", "weekly": "الأسبوعية",
            "subscribed": "تصلك هذه الرسالة لأنك اشتركت في {digest}.", "digest_of": "النشرة {cadence} من {name}",
            "digest_of_possessive": "", "view_in_browser": "اعرض هذه النشرة في المتصفح",
            "unsubscribe": "إلغاء الاشتراك", "links": "الروابط", "to_unsubscribe": "لإلغاء الاشتراك، افتح:",
        ],
        "fr": [
            "by": "Par", "top_story": "À la une", "editors_note": "Note de la rédaction",
            "read_article": "Lire l'article", "podcast": "Podcast", "listen": "Écouter", "episode": "Épisode",
            "video": "Vidéo", "watch_video": "Regarder la vidéo",
            "empty_section": "Rien dans cette rubrique aujourd'hui.", "issue": "N°", "hours": "h",
            "minutes": "min", "seconds": "s", "daily": "quotidienne", "weekly": "hebdomadaire",
            "subscribed": "Vous recevez ce message car vous êtes abonné à {digest}.",
            "digest_of": "la lettre {cadence} de {name}", "digest_of_possessive": "",
            "view_in_browser": "Voir cette lettre dans votre navigateur", "unsubscribe": "Se désabonner",
            "links": "Liens", "to_unsubscribe": "Pour vous désabonner, ouvrez :",
        ],
        "de": [
            "by": "Von", "top_story": "Topthema", "editors_note": "Anmerkung der Redaktion",
            "read_article": "Artikel lesen", "podcast": "Podcast", "listen": "Anhören", "episode": "Folge",
            "video": "Video", "watch_video": "Video ansehen", "empty_section": "Heute nichts in dieser Rubrik.",
            "issue": "Nr.", "hours": "Std.", "minutes": "Min.", "seconds": "Sek.", "daily": "tägliche",
            "weekly": "wöchentliche",
            "subscribed": "Sie erhalten diese E-Mail, weil Sie {digest} abonniert haben.",
            "digest_of": "die {cadence} Übersicht von {name}", "digest_of_possessive": "",
            "view_in_browser": "Diese Ausgabe im Browser ansehen", "unsubscribe": "Abmelden", "links": "Links",
            "to_unsubscribe": "Zum Abmelden öffnen Sie:",
        ],
        "es": [
            "by": "Por", "top_story": "Lo más destacado", "editors_note": "Nota del editor",
            "read_article": "Leer el artículo", "podcast": "Pódcast", "listen": "Escuchar", "episode": "Episodio",
            "video": "Vídeo", "watch_video": "Ver el vídeo", "empty_section": "Nada en esta sección hoy.",
            "issue": "N.º", "hours": "h", "minutes": "min", "seconds": "s", "daily": "diario", "weekly": "semanal",
            "subscribed": "Recibe este correo porque se suscribió a {digest}.",
            "digest_of": "el resumen {cadence} de {name}", "digest_of_possessive": "",
            "view_in_browser": "Ver este resumen en el navegador", "unsubscribe": "Darse de baja", "links": "Enlaces",
            "to_unsubscribe": "Para darse de baja, abra:",
        ],
    ]

    /// The table for `language` (`ar`, `fr-CA`: its first subtag), with `overrides` on top.
    public static func table(language: String, overrides: [String: String] = [:]) -> [String: String] {
        let primary = language.split(separator: "-").first.map { $0.lowercased() } ?? "en"
        var table = english.merging(tables[primary] ?? [:]) { _, own in own }
        table.merge(overrides) { _, override in override }
        return table
    }

    /// "EA WorldView's daily digest", "the weekly digest of Swift Weekly Notes": the possessive form only
    /// where the language has one and the name does not end in s; no cadence word when none is set.
    static func digestName(_ table: [String: String], name: String, cadence: String?) -> String {
        let cadenceWord = cadence.flatMap { table[$0] } ?? ""
        let possessive = table["digest_of_possessive"] ?? ""
        let endsInS = name.last.map { $0 == "s" || $0 == "S" } ?? false
        let pattern = !possessive.isEmpty && !endsInS ? possessive : (table["digest_of"] ?? "{name}")
        let filled = pattern.replacingOccurrences(of: "{cadence}", with: cadenceWord)
            .replacingOccurrences(of: "{name}", with: name)
        return filled.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}

/// The labels as the templates see them: `{{labels.topStory}}`.
public struct LabelsView: Sendable {
    public var by: String
    public var topStory: String
    public var editorsNote: String
    public var readArticle: String
    public var podcast: String
    public var listen: String
    public var episode: String
    public var video: String
    public var watchVideo: String
    public var emptySection: String
    public var viewInBrowser: String
    public var unsubscribe: String
    public var links: String
    public var toUnsubscribe: String

    init(_ table: [String: String]) {
        func word(_ name: String) -> String { table[name] ?? Labels.english[name] ?? name }
        by = word("by")
        topStory = word("top_story")
        editorsNote = word("editors_note")
        readArticle = word("read_article")
        podcast = word("podcast")
        listen = word("listen")
        episode = word("episode")
        video = word("video")
        watchVideo = word("watch_video")
        emptySection = word("empty_section")
        viewInBrowser = word("view_in_browser")
        unsubscribe = word("unsubscribe")
        links = word("links")
        toUnsubscribe = word("to_unsubscribe")
    }
}
