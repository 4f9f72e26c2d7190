//! Hostile-input limits that async-graphql does not count itself: aliases and directives over the
//! whole document, refused right after parsing, before validation or execution. Checked by the
//! executor every transport uses (`http::CodedSchema`), not by a schema extension: with any
//! extension installed, async-graphql looks up and wraps every field it resolves.

use async_graphql::{
    Request, ServerError,
    parser::types::{Selection, SelectionSet},
};

#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_directives: usize,
}

#[derive(Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

fn count(set: &SelectionSet, counts: &mut Counts) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                counts.aliases += usize::from(field.node.alias.is_some());
                counts.directives += field.node.directives.len();
                count(&field.node.selection_set.node, counts);
            }
            Selection::FragmentSpread(spread) => {
                counts.directives += spread.node.directives.len();
            }
            Selection::InlineFragment(fragment) => {
                counts.directives += fragment.node.directives.len();
                count(&fragment.node.selection_set.node, counts);
            }
        }
    }
}

impl DocumentLimits {
    /// Why the request's document is refused, if it is. Parses the document once, for
    /// async-graphql too: the parsed document stays on the request, so execution does not parse
    /// it again. A document that does not parse is left for execution to answer.
    pub fn refuse(&self, request: &mut Request) -> Option<ServerError> {
        // Every directive starts with '@': a document with far too many is refused before the
        // parser spends time on it (an '@' inside a string literal only makes this stricter).
        let at_signs = request.query.bytes().filter(|b| *b == b'@').count();
        if at_signs > self.max_directives * 4 {
            return Some(ServerError::new(
                format!(
                    "the document has {at_signs} directives; at most {} are allowed",
                    self.max_directives
                ),
                None,
            ));
        }
        let document = request.parsed_query().ok()?;
        let mut counts = Counts::default();
        for (_, operation) in document.operations.iter() {
            counts.directives += operation.node.directives.len();
            count(&operation.node.selection_set.node, &mut counts);
        }
        for fragment in document.fragments.values() {
            counts.directives += fragment.node.directives.len();
            count(&fragment.node.selection_set.node, &mut counts);
        }
        if counts.aliases > self.max_aliases {
            return Some(ServerError::new(
                format!(
                    "the document has {} aliases; at most {} are allowed",
                    counts.aliases, self.max_aliases
                ),
                None,
            ));
        }
        if counts.directives > self.max_directives {
            return Some(ServerError::new(
                format!(
                    "the document has {} directives; at most {} are allowed",
                    counts.directives, self.max_directives
                ),
                None,
            ));
        }
        None
    }
}
