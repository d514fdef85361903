using NUnit.Framework;
using Observer.Mail;
using Observer.Replication;
using Observer.TestSupport;

namespace Observer.MailKit.Tests.Contract;

/// <summary>
/// The session's events speak the engine's language: messages by UID, never by sequence number (the
/// legacy server, without QRESYNC, reports expunges by position only).
/// </summary>
[TestFixtureSource(typeof(ContractTestBase), nameof(Cases))]
public class EventContractTests(string implementation, string server) : ContractTestBase(implementation, server)
{
    [Test]
    public async Task WatchedFolder_AnotherClientsChanges_ArriveAsEventsNamingUids_AndArrivalsAreFetched()
    {
        var watcher = await SessionAsync();
        var watched = Name(watcher, "Watched");
        await using var user = await UserAsync();
        await MailFactory.FillAsync(user, watched, 6);
        await watcher.WatchFolderAsync(watched, CancellationToken.None);

        await user.SelectAsync(watched);
        // UID 2 goes first, so UID 4 is then message 3: a session that named messages by position would say 3.
        await user.UidStoreAsync(UidSet.Single(2), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await user.ExpungeAsync();
        await user.UidStoreAsync(UidSet.Single(5), StoreMode.Add, new MessageFlags([MessageFlags.Flagged]), silent: true);
        await user.UidStoreAsync(UidSet.Single(4), StoreMode.Add, new MessageFlags([MessageFlags.Deleted]), silent: true);
        await user.ExpungeAsync();
        await user.AppendAsync(watched, MailFactory.Message("late", new MessageFlags([MessageFlags.Seen])));

        var events = new List<MailEvent>();
        await Eventually.HoldsAsync(async () =>
        {
            await watcher.NoopAsync(CancellationToken.None);
            while (watcher.Events.TryRead(out var e)) events.Add(e);
            return events.OfType<MessagesArrived>().Any() && events.OfType<MessagesExpunged>().Sum(e => e.Uids.Count) >= 2;
        }, TimeSpan.FromSeconds(10), () => Task.FromResult("events: " + string.Join(", ", events)));

        var expunged = events.OfType<MessagesExpunged>().SelectMany(e => e.Uids).ToList();
        Assert.That(expunged, Is.EquivalentTo(new uint[] { 2, 4 }), "expunges named by UID");
        Assert.That(events.OfType<MessageFlagsChanged>().Where(e => e.Flags?.Contains(MessageFlags.Flagged) == true).Select(e => e.Uid),
            Has.Member((uint?)5), "the flag change names UID 5");

        var arrived = await watcher.FetchArrivalsAsync(CancellationToken.None);
        Assert.That(arrived.Keys, Is.EquivalentTo(new uint[] { 7 }));
        Assert.That(arrived[7].Contains(MessageFlags.Seen), Is.True);
        Assert.That(await watcher.FetchArrivalsAsync(CancellationToken.None), Is.Empty, "an arrival is named once");
    }

    [Test]
    public async Task WatchAll_ANewFolderAndNewMail_ArriveAsFolderEvents()
    {
        var watcher = await SessionAsync();
        var existing = Name(watcher, "Existing");
        var fresh = Name(watcher, "Fresh");
        await using var user = await UserAsync();
        await MailFactory.FillAsync(user, existing, 1);
        Assume.That(watcher.Features.Notify, Is.True);
        await watcher.WatchAllAsync(CancellationToken.None);

        await user.CreateAsync(fresh);
        await user.AppendAsync(existing, MailFactory.Message("new"));

        var events = new List<MailEvent>();
        await Eventually.HoldsAsync(async () =>
        {
            await watcher.NoopAsync(CancellationToken.None);
            while (watcher.Events.TryRead(out var e)) events.Add(e);
            return events.OfType<FolderListChanged>().Any(e => e.Name == fresh) && events.OfType<FolderStatusChanged>().Any(e => e.Folder == existing);
        }, TimeSpan.FromSeconds(10), () => Task.FromResult("events: " + string.Join(", ", events)));
        Assert.That(events.OfType<FolderListChanged>().Single(e => e.Name == fresh).IsSelectable, Is.True);
        Assert.That(events.OfType<FolderStatusChanged>().Last(e => e.Folder == existing).UidNext, Is.EqualTo(3u));
    }

    [Test]
    public async Task WatchAll_NewMailInFoldersWithNonAsciiNames_ArrivesAsTheirFolderEvents()
    {
        var watcher = await SessionAsync();
        // Dovecot's NOTIFY names these in raw UTF-8, not in the modified UTF-7 of its LIST.
        var folders = new[] { Name(watcher, "Café"), Name(watcher, "Entwürfe"), Name(watcher, "旅行") };
        await using var user = await UserAsync();
        foreach (var folder in folders) await MailFactory.FillAsync(user, folder, 1);
        Assume.That(watcher.Features.Notify, Is.True);
        await watcher.WatchAllAsync(CancellationToken.None);

        foreach (var folder in folders) await user.AppendAsync(folder, MailFactory.Message("new"));

        var events = await EventsUntilAsync(watcher, events => folders.All(f => events.OfType<FolderStatusChanged>().Any(e => e.Folder == f && e.UidNext == 3)));
        Assert.That(events.OfType<FolderStatusChanged>().Select(e => e.Folder).Distinct(), Is.SubsetOf(folders), "named as LIST names them, in Unicode");
    }

    [Test]
    public async Task WatchAll_AFolderDeletedAndCreatedAgain_ArrivesAsBothFolderEvents()
    {
        var watcher = await SessionAsync();
        var box = Name(watcher, "Phoenix");
        await using var user = await UserAsync();
        await MailFactory.FillAsync(user, box, 1);
        Assume.That(watcher.Features.Notify, Is.True);
        await watcher.WatchAllAsync(CancellationToken.None);

        await user.DeleteAsync(box);
        var events = await EventsUntilAsync(watcher, events => events.OfType<FolderListChanged>().Any(e => e.Name == box && !e.IsSelectable));
        await user.CreateAsync(box);
        events = await EventsUntilAsync(watcher, events => events.OfType<FolderListChanged>().Any(e => e.Name == box && e.IsSelectable));

        Assert.That(events.OfType<FolderListChanged>().Last(e => e.Name == box).IsSelectable, Is.True, "the folder is there again");
    }

    private static async Task<List<MailEvent>> EventsUntilAsync(IMailSession watcher, Func<List<MailEvent>, bool> enough)
    {
        var events = new List<MailEvent>();
        await Eventually.HoldsAsync(async () =>
        {
            await watcher.NoopAsync(CancellationToken.None);
            while (watcher.Events.TryRead(out var e)) events.Add(e);
            return enough(events);
        }, TimeSpan.FromSeconds(10), () => Task.FromResult("events: " + string.Join(", ", events)));
        return events;
    }
}
