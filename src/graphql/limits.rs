//! Hostile-input limits that async-graphql does not count itself: aliases and directives over the
//! whole document, refused right after parsing, before validation or execution.

use std::sync::Arc;

use async_graphql::{
    ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_directives: usize,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
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

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Every directive starts with '@': a document with far too many is refused before the
        // parser spends time on it (an '@' inside a string literal only makes this stricter).
        let at_signs = query.bytes().filter(|b| *b == b'@').count();
        if at_signs > self.max_directives * 4 {
            return Err(ServerError::new(
                format!(
                    "the document has {at_signs} directives; at most {} are allowed",
                    self.max_directives
                ),
                None,
            ));
        }
        let document = next.run(ctx, query, variables).await?;
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
            return Err(ServerError::new(
                format!(
                    "the document has {} aliases; at most {} are allowed",
                    counts.aliases, self.max_aliases
                ),
                None,
            ));
        }
        if counts.directives > self.max_directives {
            return Err(ServerError::new(
                format!(
                    "the document has {} directives; at most {} are allowed",
                    counts.directives, self.max_directives
                ),
                None,
            ));
        }
        Ok(document)
    }
}
