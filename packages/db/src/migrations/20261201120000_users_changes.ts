import { sql, type Kysely } from 'kysely';

// Every api replica caches the accounts behind tokens for a few seconds (role, existence). Any
// change that matters to that cache — a role or email changed, an account deleted, the table
// truncated — is announced on the NOTIFY channel `ratewire_users` when it commits, whoever makes it
// (the api, a migration, an operator in psql): the payload is the account id, or '*' for all.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function users_notify_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        perform pg_notify('ratewire_users', '*');
      else
        perform pg_notify('ratewire_users', old.id::text);
      end if;
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger users_notify_update after update of id, email, role on users for each row
    when (old.id is distinct from new.id or old.email is distinct from new.email or old.role is distinct from new.role)
    execute function users_notify_change()`.execute(db);
  await sql`
    create trigger users_notify_delete after delete on users for each row
    execute function users_notify_change()`.execute(db);
  await sql`
    create trigger users_notify_truncate after truncate on users for each statement
    execute function users_notify_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger users_notify_truncate on users`.execute(db);
  await sql`drop trigger users_notify_delete on users`.execute(db);
  await sql`drop trigger users_notify_update on users`.execute(db);
  await sql`drop function users_notify_change()`.execute(db);
}
