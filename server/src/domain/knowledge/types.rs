//! The vocabulary of knowledge articles, stored and sent as upper-case names.

use crate::domain::named::named_enum;

named_enum!(
    /// Where an article's working copy stands; `LIFECYCLE` says how it moves.
    ArticleStatus {
        Draft = "DRAFT",
        Review = "REVIEW",
        Published = "PUBLISHED",
        Retired = "RETIRED",
    }
);

named_enum!(
    /// Who may read an article once it is published.
    Visibility {
        Internal = "INTERNAL",
        Public = "PUBLIC",
    }
);
