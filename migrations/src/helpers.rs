//! The statements every migration repeats, as a few helpers: create tables, name a foreign key,
//! add an index, drop tables. They build exactly the sea-query statements the migrations used
//! to spell out, so the schema they make is unchanged (same names, same columns, same order).

use sea_orm_migration::prelude::*;

/// Creates each table, in order (parents before the tables that point at them).
pub async fn create_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = TableCreateStatement>,
) -> Result<(), DbErr> {
    for table in tables {
        manager.create_table(table).await?;
    }
    Ok(())
}

/// Drops each table, in order (the tables that point at others first).
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: impl IntoIterator<Item = DynIden>,
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// The foreign key `name` from `table.column` to `parent.key`; deleting the parent row is
/// refused while rows point at it.
pub fn foreign_key(
    name: &str,
    (table, column): (impl IntoIden, impl IntoIden),
    (parent, key): (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(parent, key)
        .to_owned()
}

/// As [`foreign_key`], but deleting the parent row deletes the rows that point at it.
pub fn foreign_key_cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    foreign_key(name, from, to)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Adds the index `name` on `table(columns…)`.
pub async fn create_index<C: IntoIden>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    manager.create_index(index(name, table, columns)).await
}

/// Adds the unique index `name` on `table(columns…)`.
pub async fn create_unique_index<C: IntoIden>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    manager
        .create_index(index(name, table, columns).unique().to_owned())
        .await
}

fn index<C: IntoIden>(
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    index
}
