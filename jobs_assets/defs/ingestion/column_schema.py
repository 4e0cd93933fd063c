"""The tables' column contract as Dagster metadata (`dagster/column_schema`), so the UI
shows each column's type, nullability and meaning beside the asset."""

import dagster as dg

from jobs_assets.lib.schema import Table


def table_metadata(table: Table) -> dict[str, object]:
    """`dagster/table_name` and `dagster/column_schema` of a table in the contract."""
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=column.sql_type,
                description=column.description,
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable,
                    other=[f"default {column.default}"] if column.default is not None else [],
                ),
            )
            for column in table.columns
        ],
        constraints=dg.TableConstraints(other=[f"primary key ({', '.join(table.primary_key)})"]),
    )
    return {"dagster/table_name": table.name, "dagster/column_schema": schema}
