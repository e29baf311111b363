//! Provider ids (Twilio's `CA…` call sids, `SM…` message sids, `ME…` media sids) as checked
//! newtypes, so a call id can never be passed where a message id belongs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Longest id accepted; Twilio sids are 34 characters.
pub const MAX_ID_LEN: usize = 64;

/// Why a provider id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("the {kind} is empty")]
    Empty { kind: &'static str },
    #[error("the {kind} is {len} characters long; at most {MAX_ID_LEN} are allowed")]
    TooLong { kind: &'static str, len: usize },
    #[error(
        "the {kind} \"{input}\" has '{ch}' at position {position}; only letters and digits are allowed"
    )]
    BadChar {
        kind: &'static str,
        input: String,
        ch: char,
        position: usize,
    },
}

fn check(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = s.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong { kind, len });
    }
    if let Some((index, ch)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(IdError::BadChar {
            kind,
            input: s.to_owned(),
            ch,
            position: index + 1,
        });
    }
    Ok(())
}

macro_rules! provider_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks the id is non-empty, at most 64 characters, letters and digits only.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check($kind, s)?;
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

provider_id!(
    /// A provider's id for one call leg (Twilio: `CA` + 32 hex digits).
    ProviderCallId,
    "call id"
);
provider_id!(
    /// A provider's id for one message (Twilio: `SM`/`MM` + 32 hex digits).
    ProviderMessageId,
    "message id"
);
provider_id!(
    /// A provider's id for one picture or file attached to a message (Twilio: `ME` + 32 hex
    /// digits). Letters and digits only, so it is also safe as a file name.
    ProviderMediaId,
    "media id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_twilio_sids() {
        let sid = "CA0123456789abcdef0123456789abcdef";
        let id = ProviderCallId::parse(sid).expect("a Twilio call sid is a valid id");
        assert_eq!(id.as_str(), sid, "ids are stored verbatim");
        assert_eq!(
            serde_json::to_string(&id).expect("serializing cannot fail"),
            format!("\"{sid}\""),
            "ids serialize as bare strings"
        );
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(
            ProviderMessageId::parse(""),
            Err(IdError::Empty { kind: "message id" }),
            "an empty id would collide in unique keys"
        );
        assert!(
            matches!(
                ProviderCallId::parse(&"a".repeat(65)),
                Err(IdError::TooLong { len: 65, .. })
            ),
            "overlong ids are not provider ids"
        );
        let err = ProviderCallId::parse("CA12/../x").expect_err("path characters must be rejected");
        assert!(
            matches!(
                err,
                IdError::BadChar {
                    ch: '/',
                    position: 5,
                    ..
                }
            ),
            "ids go into URLs, so only letters and digits pass; got {err:?}"
        );
        assert!(
            serde_json::from_str::<ProviderCallId>("\"a b\"").is_err(),
            "deserializing must validate like parse"
        );
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_short_alphanumerics(s in ".{0,70}") {
            let ok = !s.is_empty() && s.chars().count() <= MAX_ID_LEN && s.chars().all(|c| c.is_ascii_alphanumeric());
            prop_assert_eq!(ProviderCallId::parse(&s).is_ok(), ok, "the id rule is exactly: 1-64 ASCII letters/digits");
        }
    }
}
