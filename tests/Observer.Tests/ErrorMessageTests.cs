using NUnit.Framework;
using Observer.Cli;
using Observer.Hosting;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>Errors that must name the real problem and the side it is on, not a symptom of it.</summary>
[NonParallelizable]
public class ErrorMessageTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-errors-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private async Task<(int Code, string Out, string Err)> SyncAsync(int primaryPort)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string[] args =
        [
            "sync", "--State:Path=" + StatePath, "--Reconnect:InitialDelay=00:00:00.100", "--Reconnect:MaxDelay=00:00:00.200",
            "--Primary:Host=127.0.0.1", $"--Primary:Port={primaryPort}", "--Primary:Security=None", "--Primary:Username=a", "--Primary:Password=x",
            "--Replica:Host=127.0.0.1", $"--Replica:Port={FreePort.Next()}", "--Replica:Security=None", "--Replica:Username=b", "--Replica:Password=y",
        ];
        var code = await ObserverProgram.RunAsync(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    [Test]
    public async Task SmtpServerOnThePrimaryPort_IsNamedAsNotImap_AndNotRetried()
    {
        await using var smtp = ScriptedImapServer.Start(async session =>
        {
            await session.SendAsync("220 mx.example.com ESMTP\r\n");
            await session.ReadLineAsync();
        });
        var (code, _, errors) = await SyncAsync(smtp.Port);
        Assert.That(errors, Is.EqualTo($"observer: the primary at 127.0.0.1:{smtp.Port} is not an IMAP server (it greeted with \"220 mx.example.com ESMTP\"); "
            + "check Primary:Host and Primary:Port\n"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(smtp.Connections, Is.EqualTo(1), "a wrong service does not become IMAP on a retry");
    }

    [Test]
    public async Task LockFileThatIsAFolder_IsNotMistakenForAnotherObserver()
    {
        Directory.CreateDirectory(StatePath + ".lock");
        var (code, _, errors) = await SyncAsync(FreePort.Next());
        Assert.That(errors, Is.EqualTo($"observer: config: State:Path {StatePath}: cannot create the lock file {StatePath}.lock: {StatePath}.lock is a folder; "
            + "give State:Path a file in a folder observer can write to\n"));
        Assert.That(code, Is.EqualTo(2));
    }

    [Test]
    public async Task StateInUseByAnotherObserver_IsStillNamedSo()
    {
        using var held = InstanceLock.Acquire(StatePath);
        var (code, _, errors) = await SyncAsync(FreePort.Next());
        Assert.That(errors, Does.StartWith($"observer: another observer is already using the state database {StatePath}"));
        Assert.That(code, Is.EqualTo(1));
    }

    [Test]
    public async Task DamagedStateDatabase_IsOneLineNamingIt_AndNothingReachesTheReplica()
    {
        var accounts = await PairFixture.Pair.NewAccountsAsync();
        await using (var primary = await accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "Projects", 3);
        var settings = accounts.Settings(StatePath);
        Assert.That((await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1))).ExitCode, Is.Zero);
        await using (var primary = await accounts.PrimaryClientAsync())
            await MailFactory.FillAsync(primary, "Later", 2);
        DamageState();

        var (code, output, errors) = await ObserverProcess.RunAsync("sync", settings, _dir, TimeSpan.FromMinutes(1));
        Assert.That(errors, Does.Match(CorruptStateLine));
        Assert.That((code, output), Is.EqualTo((1, "")));
        Assert.That((await accounts.ReplicaSnapshotAsync()).Folders.Keys, Does.Not.Contain("Later"), "nothing is written while the state is in doubt");
    }

    [Test]
    public async Task DamagedStateDatabase_WhileThePrimaryIsDown_IsStillWhatIsReported_NotAnOutage()
    {
        DamageState();
        var (code, _, errors) = await SyncAsync(FreePort.Next());
        Assert.That(errors, Does.Match(CorruptStateLine));
        Assert.That(code, Is.EqualTo(1));
    }

    private string CorruptStateLine =>
        $"^observer: state database {System.Text.RegularExpressions.Regex.Escape(StatePath)} is corrupt \\(.+\\); restore it from a backup or delete it to start over\n$";

    /// <summary>Fills the state out to a few pages, then damages one past the schema.</summary>
    private void DamageState()
    {
        using (var store = Observer.State.StateStore.Open(StatePath))
        {
            var replica = store.Replicas.Find("replica") ?? store.Replicas.Ensure("replica", "p", "r").Replica;
            var folder = store.Folders.Add(replica.Id, "Padding", "Padding");
            store.Messages.Put(Enumerable.Range(1, 2000).Select(i => new Observer.State.MessageRecord { FolderId = folder.Id, PrimaryUid = (uint)i, Md5 = new byte[16], Flags = "" }));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = File.ReadAllBytes(StatePath);
        var pageSize = (bytes[16] << 8) | bytes[17];
        Array.Fill(bytes, (byte)0xA5, bytes.Length / pageSize / 2 * pageSize, 64);
        File.WriteAllBytes(StatePath, bytes);
    }

    [Test]
    public void LockFailures_SayWhatIsWrongWithTheFolder()
    {
        var lockPath = StatePath + ".lock";
        Assert.That(InstanceLock.Explain(new IOException("Read-only file system", 30), StatePath, lockPath),
            Does.Contain($"cannot create the lock file {lockPath}: {_dir} is on a read-only file system; give State:Path a file in a folder observer can write to"));
        Assert.That(InstanceLock.Explain(new UnauthorizedAccessException("Access to the path is denied."), StatePath, lockPath),
            Does.Contain($"permission denied in {_dir}"));
        Assert.That(InstanceLock.IsLocked(new IOException("Read-only file system", 30)), Is.False);
    }
}
