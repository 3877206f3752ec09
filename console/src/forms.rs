//! A posted form (`application/x-www-form-urlencoded`), with repeated names kept (segments are
//! checkboxes of one name).

use secrecy::SecretString;

pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The value of `name` when it is not blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A secret field, taken out of the form so nothing else can show it.
    pub fn take_secret(&mut self, name: &str) -> SecretString {
        let value = self
            .0
            .iter()
            .position(|(k, _)| k == name)
            .map(|i| self.0.remove(i).1)
            .unwrap_or_default();
        SecretString::from(value.trim().to_string())
    }

    /// A percentage field: `Ok(None)` when blank, `Err` when not a number.
    pub fn percent(&self, name: &str) -> Result<Option<f64>, String> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("'{v}' is not a number: give a percentage from 0 to 100")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn repeated_names_and_secrets() {
        let mut form =
            Form::parse(b"segment=A+B&segment=C%26D&api_key=%20k%20&name=%3Cx%3E&agree=on");
        assert_eq!(form.all("segment"), ["A B", "C&D"]);
        assert_eq!(form.text("name"), "<x>");
        assert!(form.checked("agree"));
        assert!(!form.checked("other"));
        assert_eq!(form.take_secret("api_key").expose_secret(), "k");
        assert_eq!(form.text("api_key"), "");
        assert_eq!(
            form.percent("name").unwrap_err(),
            "'<x>' is not a number: give a percentage from 0 to 100"
        );
        assert_eq!(Form::parse(b"p=12.5").percent("p"), Ok(Some(12.5)));
    }
}
