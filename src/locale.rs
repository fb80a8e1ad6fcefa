//! The languages reintegra speaks — French (the default: the programme works in French)
//! and English — shared by both sides: the job writes its reports for data officers in
//! the deployment's language, the server renders pages in the reader's.
//!
//! Formatting of numbers and dates for readers is the serving side's
//! (`present::i18n`); this module holds only the language itself.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    Fr,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    pub fn parse(raw: &str) -> Option<Locale> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Locale::Fr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The language tag, as in `<html lang>`, `?lang=` and `--lang`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    /// Picks the text for this locale.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Locale::Fr => fr,
            Locale::En => en,
        }
    }

    /// The first supported language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(locale) = Locale::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Locale {
    type Err = String;

    /// `fr` or `en` (any case), as `--lang` takes it.
    fn from_str(raw: &str) -> Result<Locale, String> {
        Locale::parse(raw).ok_or_else(|| "the language is fr or en".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_is_the_default_and_codes_round_trip() {
        assert_eq!(Locale::default(), Locale::Fr);
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.code()), Some(locale));
            assert_eq!(locale.code().parse::<Locale>(), Ok(locale));
        }
        assert_eq!(Locale::parse(" EN "), Some(Locale::En));
        assert_eq!(Locale::parse("de"), None);
        assert!("de".parse::<Locale>().is_err());
        assert_eq!(Locale::En.pick("oui", "yes"), "yes");
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(
            Locale::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("de-DE,fr;q=0.5,en;q=0.4"),
            Some(Locale::Fr)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
    }
}
