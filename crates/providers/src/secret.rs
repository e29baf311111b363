use std::fmt;

/// A credential (auth token, API key secret).
///
/// `Debug` prints `***`, and there is deliberately no `Display` or `Serialize`, so a secret
/// cannot reach a log line, an error message or a file by accident. Read it with
/// [`Secret::expose`] at the one place that needs it (building the `Authorization` header).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-token");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(
            !shown.contains("hunter2"),
            "Debug output must not reveal the secret, got {shown}"
        );
        assert_eq!(
            format!("{secret:?}"),
            "***",
            "Debug is the fixed mask so logs are stable"
        );
        assert_eq!(
            secret.expose(),
            "hunter2-token",
            "expose gives the real value for the auth header"
        );
    }
}
