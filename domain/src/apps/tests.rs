use super::discover::{self, Listed};
use super::*;
use crate::testing::{self, TestDb};
use chrono::Duration;

fn input(name: &str, url: &str) -> AppInput {
    AppInput { name: name.into(), access_url: url.into(), discoverable: true, ..Default::default() }
}

fn fields(e: Error) -> Vec<&'static str> {
    match e {
        Error::InvalidFields(list) => list.into_iter().map(|(f, _)| f).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn the_portal_ships_enabled_and_the_switch_is_recorded(t: TestDb) {
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let now = testing::t0();
    assert_eq!(my_account(&ctx.db).await.unwrap(), PortalState { enabled: true, changed_at: None, changed_by: None });
    set_my_account_enabled(&ctx.db, false, admin.id, now).await.unwrap();
    let s = my_account(&ctx.db).await.unwrap();
    assert_eq!((s.enabled, s.changed_at, s.changed_by), (false, Some(now), Some(admin.id)));
    let later = now + Duration::minutes(3);
    set_my_account_enabled(&ctx.db, true, admin.id, later).await.unwrap();
    let s = my_account(&ctx.db).await.unwrap();
    assert_eq!((s.enabled, s.changed_at), (true, Some(later)));
    let built_in = get(&ctx.db, MY_ACCOUNT).await.unwrap();
    assert_eq!((built_in.id, built_in.built_in, built_in.name.as_str()), (MY_ACCOUNT_ID, true, "My Account"));
}
crate::db_test!(the_portal_ships_enabled_and_the_switch_is_recorded);

async fn bad_input_gets_a_message_per_field_and_stores_nothing(t: TestDb) {
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let now = testing::t0();
    let mut bad = input("  ", "javascript:alert(1)");
    bad.logo_url = "http://cdn.example.com/x.png".into();
    assert_eq!(fields(create(&ctx.db, &bad, admin.id, now).await.unwrap_err()), ["name", "access_url", "logo_url"]);
    let mut svg = input("Pay", "https://pay.example.com");
    svg.logo_upload = Some(b"<svg xmlns='http://www.w3.org/2000/svg'><script>".to_vec());
    assert_eq!(fields(create(&ctx.db, &svg, admin.id, now).await.unwrap_err()), ["logo"]);
    svg.logo_upload = Some(vec![7u8; logo::MAX_BYTES + 1]);
    assert_eq!(fields(create(&ctx.db, &svg, admin.id, now).await.unwrap_err()), ["logo"]);
    assert_eq!(list(&ctx.db, None).await.unwrap().len(), 1, "only My Account");
}
crate::db_test!(bad_input_gets_a_message_per_field_and_stores_nothing);

async fn an_application_is_created_edited_switched_and_deleted(t: TestDb) {
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let now = testing::t0();
    let mut new = input("Payroll & HR", "https://pay.example.com/");
    new.description = "Pay slips".into();
    new.logo_upload = Some(br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>"#.to_vec());
    let app = create(&ctx.db, &new, admin.id, now).await.unwrap();
    assert_eq!((app.handle.as_str(), app.enabled, app.created_by), ("payroll-hr", true, Some(admin.id)));
    assert!(app.logo_version.is_some());
    assert_eq!(logo(&ctx.db, app.id).await.unwrap().0, "image/svg+xml");
    // Same name (any case): refused; similar name: its own handle.
    assert_eq!(fields(create(&ctx.db, &input("PAYROLL & hr", "https://x.example"), admin.id, now).await.unwrap_err()), ["name"]);
    let twin = create(&ctx.db, &input("Payroll-HR!", "https://x.example"), admin.id, now).await.unwrap();
    assert_eq!(twin.handle, "payroll-hr-2");

    let later = now + Duration::minutes(1);
    let mut edit = input("Payroll", "http://localhost:8080/");
    edit.logo_url = "https://cdn.example.com/pay.png".into();
    let edited = update(&ctx.db, "payroll-hr", &edit, admin.id, later).await.unwrap();
    assert_eq!((edited.name.as_str(), edited.handle.as_str(), edited.updated_at), ("Payroll", "payroll-hr", later));
    assert_eq!((edited.logo_url.as_deref(), edited.logo_version), (Some("https://cdn.example.com/pay.png"), None));
    assert!(matches!(logo(&ctx.db, app.id).await, Err(Error::NotFound)), "the uploaded logo is gone");
    assert!(matches!(update(&ctx.db, MY_ACCOUNT, &edit, admin.id, later).await, Err(Error::Refused(_))));

    let off = set_enabled(&ctx.db, "payroll-hr", false, admin.id, later).await.unwrap();
    assert_eq!((off.enabled, off.switched_at, off.switched_by), (false, Some(later), Some(admin.id)));
    assert_eq!(
        list(&ctx.db, Some("payr")).await.unwrap().iter().map(|a| a.handle.as_str()).collect::<Vec<_>>(),
        ["payroll-hr", "payroll-hr-2"],
        "by name"
    );
    assert_eq!(list(&ctx.db, None).await.unwrap()[0].handle, MY_ACCOUNT, "My Account first");

    assert_eq!(fields(delete(&ctx.db, "payroll-hr", "Payroll & HR", Some(admin.id)).await.unwrap_err()), ["confirm_name"]);
    assert!(matches!(delete(&ctx.db, MY_ACCOUNT, "My Account", Some(admin.id)).await, Err(Error::Refused(_))));
    delete(&ctx.db, "payroll-hr", "Payroll", Some(admin.id)).await.unwrap();
    assert!(matches!(get(&ctx.db, "payroll-hr").await, Err(Error::NotFound)));
    // The search pattern is literal: `%` and `_` match only themselves.
    assert!(list(&ctx.db, Some("%")).await.unwrap().is_empty());
}
crate::db_test!(an_application_is_created_edited_switched_and_deleted);

async fn each_application_has_its_own_login_flow(t: TestDb) {
    use proto::flow::{Condition, Flow, Method, Step};
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let now = testing::t0();
    let app = create(&ctx.db, &input("Wiki", "https://wiki.example"), admin.id, now).await.unwrap();
    let passkey_only = Flow { steps: vec![Step { options: vec![Method::Password, Method::Passkey], when: Condition::Always }] };
    crate::flows::update(&ctx.db, &app.handle, 0, &passkey_only, admin.id, None, now).await.unwrap();
    assert_eq!(crate::flows::current(&ctx.db, &app.handle).await.unwrap().version, 1);
    assert_eq!(crate::flows::current(&ctx.db, MY_ACCOUNT).await.unwrap().version, 0, "My Account's flow is untouched");
    let other = create(&ctx.db, &input("Chat", "https://chat.example"), admin.id, now).await.unwrap();
    assert_eq!(
        crate::flows::current(&ctx.db, &other.handle).await.unwrap().flow,
        Flow::default_my_account(),
        "new ones start from the default"
    );
    delete(&ctx.db, &app.handle, "Wiki", Some(admin.id)).await.unwrap();
    let again = create(&ctx.db, &input("Wiki", "https://wiki.example"), admin.id, now).await.unwrap();
    assert_eq!(again.handle, app.handle);
    assert_eq!(crate::flows::current(&ctx.db, &again.handle).await.unwrap().version, 0, "a deleted application's flow went with it");
}
crate::db_test!(each_application_has_its_own_login_flow);

/// Threat: a person discovering (or launching) applications an
/// administrator disabled or did not make discoverable.
async fn people_see_only_enabled_discoverable_applications(t: TestDb) {
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let ann = testing::user(&ctx, "ann", false).await;
    let bob = testing::user(&ctx, "bob", false).await;
    let now = testing::t0();
    for name in ["Alpha", "Beta", "Gamma"] {
        create(&ctx.db, &input(name, "https://x.example"), admin.id, now).await.unwrap();
    }
    let mut hidden = input("Hidden", "https://x.example");
    hidden.discoverable = false;
    create(&ctx.db, &hidden, admin.id, now).await.unwrap();
    create(&ctx.db, &input("Off", "https://x.example"), admin.id, now).await.unwrap();
    set_enabled(&ctx.db, "off", false, admin.id, now).await.unwrap();

    let names = |d: &discover::Discover| d.apps.iter().map(|l| l.app.name.clone()).collect::<Vec<_>>();
    let seen = discover::list(&ctx.db, ann.id, None).await.unwrap();
    assert_eq!(names(&seen), ["Alpha", "Beta", "Gamma"]);
    for h in ["hidden", "off", MY_ACCOUNT, "nope"] {
        assert!(matches!(discover::launchable_app(&ctx.db, h).await, Err(Error::NotFound)), "{h}");
        assert!(matches!(discover::set_favourite(&ctx.db, ann.id, h, true, now).await, Err(Error::NotFound)), "{h}");
    }
    assert_eq!(names(&discover::list(&ctx.db, ann.id, Some("AM")).await.unwrap()), ["Gamma"]);

    discover::set_favourite(&ctx.db, ann.id, "gamma", true, now).await.unwrap();
    discover::set_favourite(&ctx.db, ann.id, "gamma", true, now).await.unwrap();
    let seen = discover::list(&ctx.db, ann.id, None).await.unwrap();
    assert_eq!(seen.apps[0], Listed { app: get(&ctx.db, "gamma").await.unwrap(), favourite: true }, "favourites first");
    assert_eq!(names(&seen), ["Gamma", "Alpha", "Beta"]);
    assert!(discover::list(&ctx.db, bob.id, None).await.unwrap().apps.iter().all(|l| !l.favourite), "favourites are per person");
    discover::set_favourite(&ctx.db, ann.id, "gamma", false, now).await.unwrap();
    assert_eq!(names(&discover::list(&ctx.db, ann.id, None).await.unwrap()), ["Alpha", "Beta", "Gamma"]);

    // Recently used: last first, at most five, hidden ones never shown.
    let mut apps = Vec::new();
    for i in 0..6 {
        apps.push(create(&ctx.db, &input(&format!("Tool {i}"), "https://x.example"), admin.id, now).await.unwrap());
    }
    for (i, a) in apps.iter().enumerate() {
        discover::record_use(&ctx.db, ann.id, a.id, now + Duration::seconds(i as i64)).await.unwrap();
    }
    discover::record_use(&ctx.db, ann.id, apps[2].id, now + Duration::seconds(60)).await.unwrap();
    let recent: Vec<String> = discover::list(&ctx.db, ann.id, None).await.unwrap().recent.into_iter().map(|a| a.name).collect();
    assert_eq!(recent, ["Tool 2", "Tool 5", "Tool 4", "Tool 3", "Tool 1"]);
    set_enabled(&ctx.db, "tool-5", false, admin.id, now).await.unwrap();
    let recent: Vec<String> = discover::list(&ctx.db, ann.id, None).await.unwrap().recent.into_iter().map(|a| a.name).collect();
    assert_eq!(recent, ["Tool 2", "Tool 4", "Tool 3", "Tool 1"]);
    assert!(discover::list(&ctx.db, bob.id, None).await.unwrap().recent.is_empty());
}
crate::db_test!(people_see_only_enabled_discoverable_applications);

/// Upgrading keeps My Account's switch as it was: the migration moves it
/// from `app_settings` onto My Account's row, with who and when.
async fn the_migration_carries_the_old_switch_over(t: TestDb) {
    use migration::MigratorTrait;
    let ctx = t.ctx();
    let admin = testing::user(&ctx, "root", true).await;
    let then = testing::t0();
    // Back to just before the applications migration, however many came after it.
    let all = migration::Migrator::migrations();
    let at = all.iter().position(|m| m.name() == "m20261130_000002_create_applications").unwrap();
    migration::Migrator::down(&ctx.db, Some(u32::try_from(all.len() - at).unwrap())).await.unwrap();
    put_setting(&ctx.db, "myaccount.enabled", "false", Some(admin.id), then).await.unwrap();
    migration::Migrator::up(&ctx.db, None).await.unwrap();
    assert_eq!(my_account(&ctx.db).await.unwrap(), PortalState { enabled: false, changed_at: Some(then), changed_by: Some(admin.id) });
    assert!(AppSettings::find_by_id("myaccount.enabled").one(&ctx.db).await.unwrap().is_none(), "the old key is gone");
}
crate::db_test!(the_migration_carries_the_old_switch_over);
