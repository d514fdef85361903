using System.Reflection;
using NUnit.Framework;
using Observer.Mail;
using Observer.State;

namespace Observer.Replication.Tests;

/// <summary>
/// The worker's own fence on a shared state: no write starts once its lease may be lost, and a write still running when
/// the deadline passes unrenewed is cut off (a paused or cut-off worker's batch must not land after another took over).
/// </summary>
public class FencedMailSessionTests
{
    /// <summary>A session whose APPEND runs until it is let finish, or is cancelled.</summary>
    public class SlowAppend : DispatchProxy
    {
        public TaskCompletionSource<AppendResult> Finish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Appends;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != nameof(IMailSession.AppendAsync)) throw new NotSupportedException(targetMethod?.Name);
            Interlocked.Increment(ref Appends);
            var token = (CancellationToken)args![2]!;
            token.Register(() =>
            {
                Cancelled.TrySetResult();
                Finish.TrySetCanceled(token);
            });
            return Finish.Task;
        }
    }

    private static (IMailSession Session, SlowAppend Inner) Slow()
    {
        var session = DispatchProxy.Create<IMailSession, SlowAppend>();
        return (session, (SlowAppend)(object)session);
    }

    private static readonly AppendMessage[] OneMessage = [];

    [Test]
    public async Task AWriteStillRunning_WhenTheDeadlinePassesUnrenewed_IsCutOff_AsALostLease()
    {
        var (inner, slow) = Slow();
        var checks = 0;
        var fenced = new FencedMailSession(inner, () => Interlocked.Increment(ref checks) == 1
            ? TimeSpan.FromMilliseconds(100)
            : throw new LeaseLostException("alice", "not renewed in time"), TimeProvider.System);
        var ex = Assert.ThrowsAsync<LeaseLostException>(() => fenced.AppendAsync("INBOX", OneMessage, CancellationToken.None));
        Assert.That(ex!.Account, Is.EqualTo("alice"));
        Assert.That(slow.Cancelled.Task.IsCompleted, Is.True, "the APPEND in flight was cancelled, its connection with it");
    }

    [Test]
    public async Task AWriteLongerThanTheDeadline_GoesOn_WhileRenewalsMoveTheDeadline()
    {
        var (inner, slow) = Slow();
        var checks = 0;
        var fenced = new FencedMailSession(inner, () =>
        {
            if (Interlocked.Increment(ref checks) == 4) slow.Finish.TrySetResult(new AppendResult(7, null));
            return TimeSpan.FromMilliseconds(30);
        }, TimeProvider.System);
        var result = await fenced.AppendAsync("INBOX", OneMessage, CancellationToken.None);
        Assert.That(result.UidValidity, Is.EqualTo(7u));
        Assert.That(checks, Is.GreaterThanOrEqualTo(4), "the deadline was looked at again while the write ran");
        Assert.That(slow.Cancelled.Task.IsCompleted, Is.False);
    }

    [Test]
    public void NoWriteStarts_WithoutTheLease()
    {
        var (inner, slow) = Slow();
        var fenced = new FencedMailSession(inner, () => throw new LeaseLostException("bob", "now owned by w2"), TimeProvider.System);
        Assert.ThrowsAsync<LeaseLostException>(() => fenced.AppendAsync("INBOX", OneMessage, CancellationToken.None));
        Assert.That(slow.Appends, Is.Zero);
    }
}
