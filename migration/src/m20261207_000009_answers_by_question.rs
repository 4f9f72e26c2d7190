//! Answers by question (issue 14): `unmappedQuestions` counts each question's stored answers in
//! one GROUP BY, and deleting a question sets its answers' `question_id` to NULL; both look
//! answers up by `question_id`, which no index covered.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubmissionAnswers {
    Table,
    QuestionId,
}

const INDEX: &str = "idx_submission_answers_question";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(SubmissionAnswers::Table)
                    .col(SubmissionAnswers::QuestionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(SubmissionAnswers::Table)
                    .to_owned(),
            )
            .await
    }
}
