using System.Text;
using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// A replica RENAME that the replica carried out but whose answer never arrived (the connection was cut
/// while Courier spent 2 s on it, in the 30-minute Dovecot→Courier soak). If the primary then deletes
/// the folder under its new name, the renamed copy must still go: it is Observer's, not an orphan; if the
/// primary renames it again, the copy follows, and is not uploaded anew beside the old one.
/// </summary>
[NonParallelizable]
public class LostRenameAnswerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-lost-rename-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(false, TestName = "ReplicaRenameAnswerLost_ThenTheFolderDeletedOnThePrimary_TheRenamedCopyIsDeletedToo")]
    [TestCase(true, TestName = "ReplicaRenameAnswerLost_ThenTheFolderRenamedAgainOnThePrimary_TheCopyFollowsWithoutASecondUpload")]
    public async Task ReplicaRenameAnswerLost(bool renameAgain)
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Keep", 1);
        await MailFactory.FillAsync(primary, "Old", 2);
        await using var proxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), replicaProxy: proxy);
        settings["Reconnect:SyncAttempts"] = "1";
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        await primary.RenameAsync("Old", "New");
        var lost = LostAnswer.To(proxy);
        var cut = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(lost.Happened, Is.True, "the test must lose the RENAME's answer\n" + cut.Output + cut.Errors);
        proxy.ServerTransform = null;

        if (renameAgain) await primary.RenameAsync("New", "Newer");
        else await primary.DeleteAsync("New");
        var after = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(after.ExitCode, Is.Zero, after.Output + after.Errors);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty, "no folder left on the replica alone\n" + after.Errors);
        if (renameAgain)
            Assert.That(after.Errors + after.Output, Does.Not.Contain(" appended").And.Not.Contain("created"), "the copy was renamed, not uploaded again");
    }

    /// <summary>
    /// While the service waits for a RENAME whose answer was lost to land (up to 30 s, for Courier), new mail in
    /// INBOX goes first: a soak's probe waited 13 s behind one that never landed. Emulated on the replica: the
    /// answer is lost, and the folder renamed back at once, as a server that did not carry the RENAME out.
    /// </summary>
    [Test]
    public async Task WhileALostRenameIsWaitedFor_NewMailInInboxStillArrives()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "INBOX", 1);
        await MailFactory.FillAsync(primary, "Old", 2);
        await using var proxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), replicaProxy: proxy);
        await using var observer = ObserverProcess.Start("run", settings, _dir);
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);

        var lost = LostAnswer.To(proxy, async () =>
        {
            await using var server = await accounts.ReplicaClientAsync();
            await server.RenameAsync("New", "Old");
        });
        await primary.RenameAsync("Old", "New");
        await Eventually.HoldsAsync(() => Task.FromResult(lost.Then is { IsCompleted: true }), TimeSpan.FromSeconds(30), () => Task.FromResult(observer.Errors));
        await lost.Then!;
        proxy.ServerTransform = null;
        // After the pass that follows the cut has begun to wait: mail that came before it went first anyway.
        await Eventually.HoldsAsync(() => Task.FromResult(observer.Errors.Contains("waiting up to", StringComparison.Ordinal)), TimeSpan.FromSeconds(20),
            () => Task.FromResult(observer.Errors));

        await MailFactory.FillAsync(primary, "INBOX", 1, "while a rename is waited for");
        await Eventually.HoldsAsync(async () => (await accounts.ReplicaSnapshotAsync()).Folders["INBOX"].Count == 2, TimeSpan.FromSeconds(10),
            () => Task.FromResult(observer.Errors));
        // The rename is then given up as not done, and sent again.
        await Eventually.ConvergesAsync(accounts, TimeSpan.FromSeconds(60), observer: observer);
    }

    /// <summary>
    /// Courier carries out a RENAME after its connection is cut, children first and the folder itself a
    /// moment later. Observer must wait for it to land, not send a RENAME of its own into the middle of it.
    /// Emulated on the replica: the answer is lost, the children are shown moved and the folder not, and the
    /// folder follows 3 s later; the primary meanwhile renames the folder again.
    /// </summary>
    [Test]
    public async Task ReplicaStillRenamingAfterTheCut_IsWaitedFor_AndNoFolderIsLeftBehind()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using var primary = await accounts.PrimaryClientAsync();
        await MailFactory.FillAsync(primary, "Old", 2);
        await MailFactory.FillAsync(primary, "Old.Sub", 2);
        await using var proxy = FaultProxy.Start(PairFixture.Pair.Replica.Host, PairFixture.Pair.Replica.Port);
        var settings = FaultSettings.For(accounts, Path.Combine(_dir, "state.db"), replicaProxy: proxy);
        var first = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(first.ExitCode, Is.Zero, first.Output + first.Errors);

        await primary.RenameAsync("Old", "New");
        string? raced = null;
        var lost = LostAnswer.To(proxy, async () =>
        {
            await using var server = await accounts.ReplicaClientAsync();
            await server.RenameAsync("New", "Old");
            // Dovecot's Maildir++ leaves the children where they are; elsewhere they come along.
            if ((await server.ListAsync()).Any(m => m.Name == "Old.Sub")) await server.RenameAsync("Old.Sub", "New.Sub");
            await primary.RenameAsync("New", "Newer");
            await Task.Delay(TimeSpan.FromSeconds(3));
            try
            {
                await server.RenameAsync("Old", "New");
            }
            catch (Observer.Mail.ImapCommandException ex)
            {
                raced = ex.Message;
            }
        });
        var cut = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(lost.Happened, Is.True, "the test must lose the RENAME's answer\n" + cut.Output + cut.Errors);
        await lost.Then!;
        proxy.ServerTransform = null;
        Assert.That(raced, Is.Null, "Observer sent a RENAME of its own while the replica was still carrying out the first\n" + cut.Errors);

        var after = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(2));
        Assert.That(after.ExitCode, Is.Zero, after.Output + after.Errors);
        Assert.That(await accounts.DifferencesAsync(), Is.Empty, "no folder left on the replica alone\n" + cut.Errors + after.Errors);
        Assert.That(cut.Errors + after.Errors, Does.Not.Contain(" appended"), "the copies were renamed, not uploaded again");
    }

    /// <summary>The replica's first answer to a RENAME goes nowhere, and the connection with it; then, what the replica does next.</summary>
    private sealed class LostAnswer
    {
        private int _happened;

        public bool Happened => Volatile.Read(ref _happened) == 1;

        /// <summary>What the replica does once the answer is lost; null until then.</summary>
        public Task? Then { get; private set; }

        public static LostAnswer To(FaultProxy proxy, Func<Task>? then = null)
        {
            var lost = new LostAnswer();
            proxy.ServerTransform = (buffer, count) =>
            {
                if (!Encoding.ASCII.GetString(buffer, 0, count).Contains("Rename completed", StringComparison.Ordinal) || Interlocked.Exchange(ref lost._happened, 1) != 0)
                    return buffer.AsSpan(0, count).ToArray();
                proxy.CutAll();
                lost.Then = then is null ? Task.CompletedTask : Task.Run(then);
                return [];
            };
            return lost;
        }
    }
}
