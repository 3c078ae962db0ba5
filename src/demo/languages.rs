//! The demo's languages: the store questionnaire in German, French, Spanish and Japanese and
//! the phone questionnaire in German (the files in `examples/translations/`, stored as an
//! admin would store them), and the language a store's shoppers answer in: their country's,
//! where the questionnaire has it, else the questionnaire's own.

use super::DemoError;
use crate::audit::model::Actor;
use crate::db::Db;
use crate::ids::OrgId;
use crate::questionnaires::model::Questionnaire;
use crate::questionnaires::translations::{self, TranslationRequest};

/// (questionnaire key, language, `PUT …/translations/{language}` body).
const TRANSLATIONS: [(&str, &str, &str); 5] = [
    (
        "store-visit",
        "de",
        include_str!("../../examples/translations/store-visit.de.json"),
    ),
    (
        "store-visit",
        "fr",
        include_str!("../../examples/translations/store-visit.fr.json"),
    ),
    (
        "store-visit",
        "es",
        include_str!("../../examples/translations/store-visit.es.json"),
    ),
    (
        "store-visit",
        "ja",
        include_str!("../../examples/translations/store-visit.ja.json"),
    ),
    (
        "phone-support",
        "de",
        include_str!("../../examples/translations/phone-support.de.json"),
    ),
];

/// Stores every translation of the demo's questionnaires.
pub(super) async fn translate(
    db: &Db,
    org: OrgId,
    questionnaires: &[Questionnaire],
) -> Result<(), DemoError> {
    for (key, language, body) in TRANSLATIONS {
        let Some(q) = questionnaires.iter().find(|q| q.key == key) else {
            continue;
        };
        let request: TranslationRequest = serde_json::from_str(body)?;
        translations::put(db, org, Actor::System, q.id, language.into(), request.texts)
            .await
            .map_err(|e| DemoError::Refused(format!("the {language} translation of {key}: {e}")))?;
    }
    Ok(())
}

/// The language a shopper visiting a store in `country` (ISO 3166) answers `questionnaire`
/// in.
pub(super) fn spoken(country: &str, questionnaire: &Questionnaire) -> String {
    let local = match country {
        "DE" | "AT" => "de",
        "FR" => "fr",
        "ES" => "es",
        "JP" => "ja",
        _ => "",
    };
    let translated = TRANSLATIONS
        .iter()
        .any(|(key, language, _)| *key == questionnaire.key && *language == local);
    if translated {
        local.to_string()
    } else {
        questionnaire.content.source_language.clone()
    }
}

/// What the demo's shoppers write (`world::PRAISE`, `NEUTRAL`, `COMPLAINTS`), as written by
/// a shopper who answers in German, French, Spanish or Japanese (in that order).
const WRITTEN: [(&str, [&str; 4]); 16] = [
    (
        "The clerk offered to carry my box to the counter while I queued.",
        [
            "Der Verkäufer bot an, meinen Karton zur Kasse zu tragen, während ich anstand.",
            "Le vendeur a proposé de porter mon carton jusqu'à la caisse pendant que je faisais la queue.",
            "El dependiente se ofreció a llevar mi caja al mostrador mientras hacía cola.",
            "列に並んでいる間、店員さんが箱をレジまで運ぶと申し出てくれました。",
        ],
    ),
    (
        "She remembered my name from my last visit and asked about the clock I bought.",
        [
            "Sie wusste meinen Namen noch vom letzten Besuch und fragte nach der Uhr, die ich gekauft hatte.",
            "Elle se souvenait de mon nom depuis ma dernière visite et m'a demandé des nouvelles de l'horloge achetée.",
            "Recordaba mi nombre de la última visita y me preguntó por el reloj que compré.",
            "前回の来店で私の名前を覚えていて、買った時計のことを尋ねてくれました。",
        ],
    ),
    (
        "He knelt to show my daughter the music box and let her wind it.",
        [
            "Er kniete sich hin, um meiner Tochter die Spieldose zu zeigen, und ließ sie sie aufziehen.",
            "Il s'est agenouillé pour montrer la boîte à musique à ma fille et la lui a laissé remonter.",
            "Se agachó para enseñarle la caja de música a mi hija y la dejó darle cuerda.",
            "ひざをついて娘にオルゴールを見せ、ねじを巻かせてくれました。",
        ],
    ),
    (
        "They offered to measure my hallway before I committed to the dresser.",
        [
            "Man bot an, meinen Flur auszumessen, bevor ich mich für die Kommode entscheide.",
            "On m'a proposé de mesurer mon couloir avant que je m'engage pour la commode.",
            "Se ofrecieron a medir mi pasillo antes de decidirme por la cómoda.",
            "たんすを決める前に、廊下の寸法を測りに来ると申し出てくれました。",
        ],
    ),
    (
        "I was offered a call when the matching chair comes in, and it came.",
        [
            "Man versprach mir einen Anruf, wenn der passende Stuhl eintrifft, und er kam.",
            "On m'a proposé de m'appeler à l'arrivée de la chaise assortie, et l'appel est venu.",
            "Me ofrecieron llamarme cuando llegara la silla a juego, y me llamaron.",
            "揃いの椅子が入荷したら電話すると言われ、本当に電話が来ました。",
        ],
    ),
    (
        "Warm welcome and a genuine conversation about the history of the piece.",
        [
            "Herzlicher Empfang und ein echtes Gespräch über die Geschichte des Stücks.",
            "Accueil chaleureux et une vraie conversation sur l'histoire de la pièce.",
            "Una bienvenida cálida y una conversación sincera sobre la historia de la pieza.",
            "温かい出迎えと、品物の来歴についての心のこもった会話がありました。",
        ],
    ),
    (
        "Friendly and efficient; nothing out of the ordinary.",
        [
            "Freundlich und zügig; nichts Außergewöhnliches.",
            "Aimable et efficace ; rien d'extraordinaire.",
            "Amable y eficaz; nada fuera de lo común.",
            "親切で手際よく、特に変わったことはありませんでした。",
        ],
    ),
    (
        "A pleasant visit; the staff knew the stock well.",
        [
            "Ein angenehmer Besuch; das Personal kannte das Sortiment gut.",
            "Une visite agréable ; le personnel connaissait bien le stock.",
            "Una visita agradable; el personal conocía bien el género.",
            "気持ちのよい訪問で、スタッフは在庫をよく把握していました。",
        ],
    ),
    (
        "Served promptly, the purchase went through without problems.",
        [
            "Rasch bedient, der Kauf verlief ohne Probleme.",
            "Servi rapidement, l'achat s'est fait sans problème.",
            "Me atendieron enseguida y la compra se hizo sin problemas.",
            "すぐに対応してもらい、購入も問題なく済みました。",
        ],
    ),
    (
        "Polite staff, tidy shop, a short queue at the counter.",
        [
            "Höfliches Personal, aufgeräumter Laden, eine kurze Schlange an der Kasse.",
            "Personnel poli, magasin bien rangé, une courte file à la caisse.",
            "Personal educado, tienda ordenada, poca cola en el mostrador.",
            "丁寧なスタッフ、整頓された店内、レジの列は短めでした。",
        ],
    ),
    (
        "Helpful answers to my questions about delivery.",
        [
            "Hilfreiche Antworten auf meine Fragen zur Lieferung.",
            "Des réponses utiles à mes questions sur la livraison.",
            "Respuestas útiles a mis preguntas sobre la entrega.",
            "配送についての質問に丁寧に答えてくれました。",
        ],
    ),
    (
        "I waited a long time while the employee finished a personal call.",
        [
            "Ich wartete lange, während der Mitarbeiter ein privates Telefonat beendete.",
            "J'ai attendu longtemps pendant que l'employé terminait un appel personnel.",
            "Esperé mucho tiempo mientras el empleado terminaba una llamada personal.",
            "従業員が私用の電話を終えるまで、長いこと待たされました。",
        ],
    ),
    (
        "Nobody greeted me; I had to look for someone to pay.",
        [
            "Niemand hat mich begrüßt; ich musste jemanden zum Bezahlen suchen.",
            "Personne ne m'a salué ; j'ai dû chercher quelqu'un pour payer.",
            "Nadie me saludó; tuve que buscar a alguien para pagar.",
            "誰にも挨拶されず、支払いのために店員を探さなければなりませんでした。",
        ],
    ),
    (
        "The entrance was cluttered and the counter was dusty.",
        [
            "Der Eingang war zugestellt und die Theke staubig.",
            "L'entrée était encombrée et le comptoir poussiéreux.",
            "La entrada estaba abarrotada y el mostrador tenía polvo.",
            "入口は物で塞がれ、カウンターはほこりっぽかったです。",
        ],
    ),
    (
        "The employee seemed annoyed by my questions about the price.",
        [
            "Der Mitarbeiter wirkte genervt von meinen Fragen zum Preis.",
            "L'employé semblait agacé par mes questions sur le prix.",
            "El empleado parecía molesto por mis preguntas sobre el precio.",
            "値段について尋ねると、従業員は面倒そうな様子でした。",
        ],
    ),
    (
        "I was told the wrong opening hours for the weekend.",
        [
            "Man nannte mir falsche Öffnungszeiten für das Wochenende.",
            "On m'a donné de mauvais horaires d'ouverture pour le week-end.",
            "Me dieron un horario equivocado para el fin de semana.",
            "週末の営業時間を間違って案内されました。",
        ],
    ),
];

/// `english` (one of the demo's shopper texts) as a shopper answering in `language` writes
/// it; the English where the demo has no such text.
pub(super) fn written(english: &'static str, language: &str) -> &'static str {
    let column = match language {
        "de" => 0,
        "fr" => 1,
        "es" => 2,
        "ja" => 3,
        _ => return english,
    };
    WRITTEN
        .iter()
        .find(|(en, _)| *en == english)
        .and_then(|(_, local)| local.get(column).copied())
        .unwrap_or(english)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaires::dto::CreateQuestionnaireRequest;
    use crate::questionnaires::language;

    #[test]
    fn every_demo_translation_gives_every_text_of_its_questionnaire() {
        for (key, language, body) in TRANSLATIONS {
            let raw = match key {
                "store-visit" => super::super::STORE_VISIT,
                _ => super::super::PHONE_SUPPORT,
            };
            let request: CreateQuestionnaireRequest = serde_json::from_str(raw).unwrap();
            let (_, content) = request.content();
            let texts = serde_json::from_str::<TranslationRequest>(body)
                .unwrap()
                .texts;
            let coverage = language::check(&content, &texts)
                .unwrap_or_else(|v| panic!("{key} {language}: {v:?}"));
            assert_eq!(coverage.missing, Vec::<String>::new(), "{key} {language}");
        }
    }

    #[test]
    fn every_shopper_text_of_the_demo_is_written_in_each_language() {
        let all = crate::demo::world::PRAISE
            .iter()
            .chain(&crate::demo::world::NEUTRAL)
            .chain(&crate::demo::world::COMPLAINTS);
        for english in all {
            for language in ["de", "fr", "es", "ja"] {
                assert_ne!(
                    written(english, language),
                    *english,
                    "{language}: {english}"
                );
            }
            assert_eq!(written(english, "en"), *english);
        }
    }
}
