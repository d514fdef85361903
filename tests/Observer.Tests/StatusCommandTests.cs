using NUnit.Framework;
using Observer.Cli;
using Observer.State;
using Observer.TestSupport;

namespace Observer.Tests;

/// <summary>
/// `observer status` on a state database laid out by the test: what it says about folders never synced
/// or in trouble, about a service that is gone, and its exit code.
/// </summary>
[NonParallelizable]
public class StatusCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-status-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private async Task<(int Code, string Out, string Err)> StatusAsync()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string[] args =
        [
            "status", "--State:Path=" + StatePath,
            "--Primary:Host=127.0.0.1", "--Primary:Port=1", "--Primary:Security=None", "--Primary:Username=a", "--Primary:Password=x",
            "--Replica:Host=127.0.0.1", "--Replica:Port=2", "--Replica:Security=None", "--Replica:Username=b", "--Replica:Password=y",
        ];
        var code = await ObserverProgram.RunAsync(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    /// <summary>A state with INBOX synced; the test adds what it needs.</summary>
    private (StateStore Store, long Replica) NewState()
    {
        var store = StateStore.Open(StatePath);
        var replica = store.Replicas.Ensure("replica", "127.0.0.1:1", "127.0.0.1:2").Replica.Id;
        store.Folders.SaveCheckpoint(store.Folders.Add(replica, "INBOX", "INBOX"), DateTimeOffset.UtcNow);
        return (store, replica);
    }

    [Test]
    public async Task AllSynced_ServiceStoppedCleanly_IsHealthy_ExitZero()
    {
        var (store, replica) = NewState();
        using (store)
        {
            var now = DateTimeOffset.UtcNow;
            store.Service.Save(replica, new ServiceRecord { StartedAt = now.AddHours(-1), HeartbeatAt = now.AddMinutes(-5), PrimaryState = "stopped", ReplicaState = "stopped" });
        }
        var (code, output, errors) = await StatusAsync();
        Assert.That((code, errors), Is.EqualTo((0, "")), output);
        Assert.That(output, Does.Contain("lag: 0 s; pending writes: 0; folders in trouble: 0"));
        Assert.That(output, Does.Contain("health: ok"));
    }

    [Test]
    public async Task FoldersNeverSyncedOrInTrouble_ShowNeverAndDash_NotZeroLag_AndNeedAttention()
    {
        var (store, replica) = NewState();
        using (store)
        {
            store.Folders.Add(replica, "Fresh", "Fresh");
            store.Folders.SaveCheckpoint(store.Folders.Add(replica, "Broken", "Broken"), DateTimeOffset.UtcNow);
            store.Troubles.Record(replica, "Broken", "error", "APPEND refused by the server: [OVERQUOTA] Quota exceeded", DateTimeOffset.UtcNow.AddMinutes(1));
        }
        var (code, output, _) = await StatusAsync();
        Assert.That(output, Does.Match(@"Fresh\s+0\s+never\s+0\s+never\s+not yet synced"));
        Assert.That(output, Does.Match(@"Broken\s+0\s+\S+ \S+\s+0\s+-\s+TROUBLE"));
        Assert.That(output, Does.Match(@"INBOX\s+0\s+\S+ \S+\s+0\s+0 s\s+ok"));
        Assert.That(output, Does.Contain("lag: 0 s, and 1 of 3 folders not yet synced; pending writes: 0; folders in trouble: 1"));
        Assert.That(output, Does.Contain("health: needs attention: 1 folder in trouble; the last sync did not complete"));
        Assert.That(code, Is.EqualTo(1));
    }

    [Test]
    public async Task HeldDeletions_AreListedWithTheCommandThatApprovesThem_AndNeedAttention()
    {
        var (store, replica) = NewState();
        using (store)
        {
            store.Folders.SaveCheckpoint(store.Folders.Add(replica, "Old Stuff", "Old Stuff"), DateTimeOffset.UtcNow);
            store.Holds.Put(replica, "INBOX", HoldKind.Messages, 30, "the primary folder shrank from 40 to 10 messages");
            store.Holds.Put(replica, "Old Stuff", HoldKind.Folder, 12, "3 of 4 folders vanished from the primary at once");
        }
        var (code, output, _) = await StatusAsync();
        Assert.That(output, Does.Match(@"INBOX\s.*\s+HELD"));
        Assert.That(output, Does.Contain("INBOX: deleting 30 messages").And.Contain("approve: observer approve INBOX"));
        Assert.That(output, Does.Contain("Old Stuff: deleting the folder").And.Contain("approve: observer approve 'Old Stuff'"));
        Assert.That(output, Does.Contain("health: needs attention: 2 folders with deletions held by the delete guard"));
        Assert.That(code, Is.EqualTo(1));
    }

    [Test]
    public async Task ApprovedHold_IsShownAsWaitingToBeApplied()
    {
        var (store, replica) = NewState();
        using (store)
        {
            store.Holds.Put(replica, "INBOX", HoldKind.Messages, 30, "the primary folder shrank from 40 to 10 messages");
            Assert.That(store.Holds.Approve(replica, "INBOX"), Is.EqualTo(1));
            Assert.That(store.Holds.Approve(replica, "INBOX"), Is.EqualTo(0), "approving twice changes nothing");
        }
        var (_, output, _) = await StatusAsync();
        Assert.That(output, Does.Contain("INBOX: deleting 30 messages: approved").And.Contain("applied at the next sync"));
    }

    [Test]
    public async Task ServiceGoneWithoutACleanStop_ServersShowUnknown_NotTheirLastState()
    {
        var (store, replica) = NewState();
        using (store)
        {
            var now = DateTimeOffset.UtcNow;
            store.Service.Save(replica, new ServiceRecord
            {
                Pid = Environment.ProcessId, StartedAt = now.AddHours(-1), HeartbeatAt = now.AddMinutes(-10), PrimaryState = "connected", ReplicaState = "connected",
                WatchMode = "NOTIFY",
            });
        }
        var (code, output, _) = await StatusAsync();
        Assert.That(output, Does.Contain("service: not running (last heartbeat"));
        Assert.That(output, Does.Contain("primary: unknown (service not running); replica: unknown (service not running)"));
        Assert.That(output, Does.Not.Contain("primary: connected"));
        Assert.That(output, Does.Contain("health: needs attention: the service is not running, and it did not stop cleanly"));
        Assert.That(code, Is.EqualTo(1));
    }

    [Test]
    public async Task NoStateDatabase_IsOneLineAndExitOne_AndCreatesNothing()
    {
        var (code, output, errors) = await StatusAsync();
        Assert.That(errors, Is.EqualTo($"observer: no state database at {StatePath}; run observer sync or observer run first\n"));
        Assert.That((code, output), Is.EqualTo((1, "")));
        Assert.That(Directory.GetFileSystemEntries(_dir), Is.Empty, "status created no file");
    }

}
