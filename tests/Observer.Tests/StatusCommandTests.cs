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

    private Task<(int Code, string Out, string Err)> StatusAsync(params string[] extra) => ObserverAsync(["status", .. extra]);

    private async Task<(int Code, string Out, string Err)> ObserverAsync(string[] command)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string[] args =
        [
            .. command, "--State:Path=" + StatePath,
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
    public async Task AllSynced_ByOneShotSyncsOnly_IsHealthy_ExitZero()
    {
        NewState().Store.Dispose();
        var (code, output, errors) = await StatusAsync();
        Assert.That((code, errors), Is.EqualTo((0, "")), output);
        Assert.That(output, Does.Contain("service: not running"));
        Assert.That(output, Does.Contain("lag: 0 s; pending writes: 0; folders in trouble: 0"));
        Assert.That(output, Does.EndWith("health: ok\n"));
    }

    [Test]
    public async Task AllSynced_ServiceStoppedCleanly_IsNotRunning_ExitTwo()
    {
        var (store, replica) = NewState();
        using (store)
        {
            var now = DateTimeOffset.UtcNow;
            store.Service.Save(replica, new ServiceRecord { StartedAt = now.AddHours(-1), HeartbeatAt = now.AddMinutes(-5), PrimaryState = "stopped", ReplicaState = "stopped" });
        }
        var (code, output, errors) = await StatusAsync();
        Assert.That((code, errors), Is.EqualTo((2, "")), output);
        Assert.That(output, Does.Contain("service: not running (stopped "));
        Assert.That(output, Does.EndWith("health: not running or not connected: the service is not running\n"));
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
        Assert.That(output, Does.Contain("health: not running or not connected: the service is not running, and it did not stop cleanly"));
        Assert.That(code, Is.EqualTo(2));
    }

    [Test]
    public async Task NoStateDatabase_IsOneLineAndExitTwo_AndCreatesNothing()
    {
        var (code, output, errors) = await StatusAsync();
        Assert.That(errors, Is.EqualTo($"observer: no state database at {StatePath}; run observer sync or observer run first\n"));
        Assert.That((code, output), Is.EqualTo((2, "")));
        Assert.That(Directory.GetFileSystemEntries(_dir), Is.Empty, "status created no file");
    }

    /// <summary>A service alive now: this test process's pid, and a fresh heartbeat.</summary>
    private static ServiceRecord Running(string primary = "connected", string replica = "connected") => new()
    {
        Pid = Environment.ProcessId, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-1), HeartbeatAt = DateTimeOffset.UtcNow, PrimaryState = primary, ReplicaState = replica,
        WatchMode = "NOTIFY",
    };

    [Test]
    public async Task RunningAndConnected_IsHealthy_UntilAChangeWaitsLongerThanMaxLag()
    {
        var (store, replica) = NewState();
        using (store)
        {
            store.Service.Save(replica, Running());
            store.Folders.MarkDirty(replica, "INBOX", DateTimeOffset.UtcNow.AddMinutes(-3));
        }
        var (code, output, _) = await StatusAsync("--Health:MaxLag=00:05:00");
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("service: running (pid "));

        (code, output, _) = await StatusAsync("--Health:MaxLag=00:01:00");
        Assert.That(output, Does.EndWith("health: needs attention: lagging 3 min behind the primary, past Health:MaxLag (60 s)\n"));
        Assert.That(code, Is.EqualTo(1));
    }

    [Test]
    public async Task RunningWithTheReplicaUnavailable_IsNotConnected_ExitTwo()
    {
        var (store, replica) = NewState();
        using (store) store.Service.Save(replica, Running(replica: "unavailable since 10:00: connection refused"));
        var (code, output, _) = await StatusAsync();
        Assert.That(output, Does.Contain("primary: connected; replica: unavailable since 10:00"));
        Assert.That(output, Does.EndWith("health: not running or not connected: the replica is unavailable\n"));
        Assert.That(code, Is.EqualTo(2));
    }

    [Test]
    public async Task Json_SaysWhatTheTextSays_AndExitsTheSame()
    {
        var (store, replica) = NewState();
        using (store)
        {
            store.Service.Save(replica, Running());
            store.Folders.SaveCheckpoint(store.Folders.Add(replica, "Old Stuff", "Old Stuff"), DateTimeOffset.UtcNow);
            store.Holds.Put(replica, "Old Stuff", HoldKind.Messages, 30, "the primary folder shrank from 40 to 10 messages");
            store.Troubles.Record(replica, "INBOX", "error", "APPEND refused by the server: [OVERQUOTA] Quota exceeded", DateTimeOffset.UtcNow.AddMinutes(5));
        }
        var (code, output, errors) = await StatusAsync("--json");
        Assert.That(errors, Is.Empty);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.That((root.GetProperty("health").GetString(), root.GetProperty("exitCode").GetInt32(), code), Is.EqualTo(("attention", 1, 1)));
        var unit = root.GetProperty("units").EnumerateArray().Single();
        Assert.That(unit.GetProperty("service").GetProperty("running").GetBoolean(), Is.True);
        Assert.That(unit.GetProperty("service").GetProperty("primaryConnection").GetString(), Is.EqualTo("connected"));
        Assert.That(unit.GetProperty("folders").GetInt32(), Is.EqualTo(2));
        var hold = unit.GetProperty("heldDeletions").EnumerateArray().Single();
        Assert.That((hold.GetProperty("folder").GetString(), hold.GetProperty("count").GetInt32(), hold.GetProperty("approve").GetString()),
            Is.EqualTo(("Old Stuff", 30, "observer approve 'Old Stuff'")));
        var trouble = unit.GetProperty("troubles").EnumerateArray().Single();
        Assert.That(trouble.GetProperty("error").GetString(), Does.Contain("[OVERQUOTA]"));
        Assert.That(root.GetProperty("problems").EnumerateArray().Select(p => p.GetString()),
            Is.EqualTo(new[] { "1 folder with deletions held by the delete guard", "1 folder in trouble" }));
        var states = unit.GetProperty("folderList").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("state").GetString());
        Assert.That(states, Is.EqualTo(new Dictionary<string, string?> { ["INBOX"] = "TROUBLE", ["Old Stuff"] = "HELD" }));
    }

    [Test]
    public async Task Json_WithoutAStateDatabase_SaysDown_AndCreatesNothing()
    {
        var (code, output, errors) = await StatusAsync("--json");
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.That((code, errors, json.RootElement.GetProperty("health").GetString()), Is.EqualTo((2, "", "down")));
        Assert.That(Directory.GetFileSystemEntries(_dir), Is.Empty, "status created no file");
    }

    [Test]
    public async Task Retry_EndsTheBackoffOfTheNamedFolder_AndKeepsItsAttempts()
    {
        var (store, replica) = NewState();
        var later = DateTimeOffset.UtcNow.AddHours(1);
        using (store)
        {
            store.Folders.SaveCheckpoint(store.Folders.Add(replica, "Sent", "Sent"), DateTimeOffset.UtcNow);
            store.Troubles.Record(replica, "INBOX", "error", "APPEND refused by the server: [OVERQUOTA] Quota exceeded", later);
            store.Troubles.Record(replica, "Sent", "error", "SELECT refused by the server: [NOPERM] no", later);
        }
        var wrong = await ObserverAsync(["retry", "Drafts"]);
        Assert.That((wrong.Code, wrong.Err), Is.EqualTo((2, "observer: no folder in trouble named 'Drafts'; in trouble now: INBOX, Sent\n")));

        var (code, output, errors) = await ObserverAsync(["retry", "INBOX"]);
        Assert.That((code, errors), Is.EqualTo((0, "")));
        Assert.That(output, Is.EqualTo("retry: 1 folder due now; run `observer sync` (or start `observer run`) to try them\n"));
        using var after = StateStore.Open(StatePath);
        var troubles = after.Troubles.All(replica).ToDictionary(t => t.Folder);
        Assert.That(troubles["INBOX"].NextAttempt, Is.LessThanOrEqualTo(DateTimeOffset.UtcNow));
        Assert.That(troubles["INBOX"].Attempts, Is.EqualTo(1));
        Assert.That(troubles["Sent"].NextAttempt, Is.EqualTo(later).Within(TimeSpan.FromSeconds(1)), "only the folder named");
    }
}
