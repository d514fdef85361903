using NUnit.Framework;
using Observer.Cli;
using Observer.State;

namespace Observer.Tests;

/// <summary>`observer status` with a Replicas list: one line per replica, and what a delayed replica holds and when it applies it.</summary>
[NonParallelizable]
public class ReplicaStatusTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("observer-replica-status-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state.db");

    private async Task<(int Code, string Out, string Err)> StatusAsync(params string[] extra)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string[] args =
        [
            "status", "--State:Path=" + StatePath, .. extra,
            "--Primary:Host=127.0.0.1", "--Primary:Port=1", "--Primary:Security=None", "--Primary:Username=a", "--Primary:Password=x",
            "--Replicas:0:Name=standby", "--Replicas:0:Host=127.0.0.1", "--Replicas:0:Port=2", "--Replicas:0:Security=None", "--Replicas:0:Username=b", "--Replicas:0:Password=y",
            "--Replicas:1:Name=yesterday", "--Replicas:1:Policy=Delayed", "--Replicas:1:Delay=1.00:00:00",
            "--Replicas:1:Host=127.0.0.1", "--Replicas:1:Port=3", "--Replicas:1:Security=None", "--Replicas:1:Username=b", "--Replicas:1:Password=z",
        ];
        var code = await ObserverProgram.RunAsync(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }

    [Test]
    public async Task EachReplica_HasItsLine_AndADelayedOneShowsWhatItHolds_AndWhen()
    {
        var vanishedAt = DateTimeOffset.UtcNow.AddHours(-2);
        using (var store = StateStore.Open(StatePath, new FixedClock(vanishedAt)))
        {
            var standby = store.Replicas.Ensure("standby", "a@127.0.0.1:1", "b@127.0.0.1:2").Replica.Id;
            store.Folders.SaveCheckpoint(store.Folders.Add(standby, "INBOX", "INBOX"), vanishedAt);
            var yesterday = store.Replicas.Ensure("yesterday", "a@127.0.0.1:1", "b@127.0.0.1:3", mode: "delayed", delaySeconds: 86_400).Replica.Id;
            var inbox = store.Folders.Add(yesterday, "INBOX", "INBOX");
            store.Folders.SaveCheckpoint(inbox, vanishedAt);
            store.Messages.Put(new uint[] { 1, 2, 3 }.Select(uid => new MessageRecord { FolderId = inbox.Id, PrimaryUid = uid, ReplicaUid = uid, Md5 = new byte[16], Flags = "" }));
            store.Messages.MarkVanished(inbox.Id, [1u, 2u]);
            store.Folders.SaveCheckpoint(store.Folders.Add(yesterday, "Old", "Old"), vanishedAt);
            store.Folders.SetGoneSince(yesterday, "Old", vanishedAt);
        }
        var (code, output, errors) = await StatusAsync();
        Assert.That(errors, Is.Empty);
        TestContext.Out.WriteLine(output);
        Assert.That(output, Does.Match(@"REPLICA\s+FOLDERS"));
        Assert.That(output, Does.Match(@"standby\s+1\s+0\s+0\s+0 s\s+ok"));
        var due = StatusCommandFormat(vanishedAt.AddDays(1));
        Assert.That(output, Does.Contain($"yesterday ").And.Contain($"delayed 1 d: 2 expunges in 1 folder, 1 folder deletion held, the next at {due}"));
        Assert.That(code, Is.Zero, output);

        (code, output, _) = await StatusAsync("--replica", "yesterday");
        TestContext.Out.WriteLine(output);
        Assert.That(output, Does.Contain("(delayed replica 'yesterday')"));
        Assert.That(output, Does.Contain($"  INBOX: 2 expunges, the first applied at {due}"));
        Assert.That(output, Does.Contain($"  Old: deleting the folder, at {due}"));
    }

    private static string StatusCommandFormat(DateTimeOffset value) => value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
