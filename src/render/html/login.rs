//! The sign-in page, in French and English: the form, and what went wrong with the
//! last attempt (never which of the name or the password).

use maud::html;

use super::STYLESHEET;
use crate::access::Viewer;
use crate::definitions::Programme;
use crate::present::filters::percent;
use crate::present::i18n::Locale;

/// The sign-in page; `next` is where signing in leads (already checked to be local).
pub fn page(
    programme: &Programme,
    locale: Locale,
    next: &str,
    message: Option<&str>,
    viewer: &Viewer,
) -> String {
    let t = |fr, en| locale.pick(fr, en);
    let other = if locale == Locale::Fr { "en" } else { "fr" };
    html! {
        (maud::DOCTYPE)
        html lang=(locale.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t("Connexion", "Sign in")) " · reintegra" }
                link rel="stylesheet" href=(STYLESHEET);
            }
            body {
                header.site { div.brand { a href="/" { "reintegra" } @if let Some(tag) = &programme.tagline { span { (locale.pick(&tag.fr, &tag.en)) } } }
                    div.account { a.lang href={ "/login?lang=" (other) "&next=" (percent(next)) } lang=(other) { (if locale == Locale::Fr { "English" } else { "Français" }) } } }
                main #main.login {
                    h1 { (t("Connexion", "Sign in")) }
                    @if let Some(user) = &viewer.user {
                        p { (t("Vous êtes connecté en tant que ", "You are signed in as ")) strong { (user) } "." }
                    }
                    @if let Some(m) = message { p.error role="alert" { (m) } }
                    form.login method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        input type="hidden" name="lang" value=(locale.code());
                        label { span { (t("Nom d'utilisateur", "Username")) } input type="text" name="username" autocomplete="username" maxlength="64" required; }
                        label { span { (t("Mot de passe", "Password")) } input type="password" name="password" autocomplete="current-password" required; }
                        button type="submit" { (t("Se connecter", "Sign in")) }
                    }
                    p.desc { (t("Les tableaux de bord décrivent des personnes vulnérables : ils sont réservés aux personnes autorisées, et chaque consultation est enregistrée.", "The dashboards describe vulnerable people: they are for authorised people only, and every view is recorded.")) }
                }
            }
        }
    }
    .into_string()
}
