using NUnit.Framework;
using Observer.TestSupport;

namespace Observer.Replication.Tests;

/// <summary>
/// When a NOTIFY session counts as deaf, and how often a new one is tried, on a clock the test moves: the
/// poller's findings and NOTIFY's pushes are given as they would arrive, every 10 s.
/// </summary>
public class PushHealthTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(10);

    private ManualTimeProvider _time = null!;
    private CapturingLogger _log = null!;
    private PushHealth _health = null!;
    private DateTimeOffset? _lastPoll;

    // NUnit keeps one instance of the fixture for all its tests.
    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _log = new CapturingLogger();
        _health = new PushHealth(Poll, _log, _time);
        _lastPoll = null;
    }

    [Test]
    public void AChangeNotifyReported_KeepsTheSession()
    {
        var session = _health.Connected(CancellationToken.None);
        PollAfter(TimeSpan.Zero);
        PollAfter(Poll, "Busy");
        _time.Advance(TimeSpan.FromMilliseconds(600));
        _health.Heard("Busy");
        for (var i = 0; i < 5; i++) PollAfter(Poll);
        Assert.That(session.IsCancellationRequested, Is.False);
    }

    [Test]
    public void AChangeNotifyLeftOut_ReplacesTheSession_OnceItHasHadTwoPolls()
    {
        var session = _health.Connected(CancellationToken.None);
        PollAfter(TimeSpan.Zero);
        PollAfter(TimeSpan.FromSeconds(5), "Quiet");
        PollAfter(TimeSpan.FromSeconds(3));
        Assert.That(session.IsCancellationRequested, Is.False, "8 s in: judged a miss, but the session has not had its two polls");
        PollAfter(TimeSpan.FromSeconds(12));
        Assert.That(session.IsCancellationRequested, Is.True);
        Assert.That(_log.AllText, Does.Contain("did not report changes that polling found in 1 folders (Quiet)"));
    }

    [Test]
    public void AChangeLeftOut_RightAfterOneNotifyReported_IsStillJudged()
    {
        var session = _health.Connected(CancellationToken.None);
        PollAfter(TimeSpan.Zero);
        PollAfter(TimeSpan.FromSeconds(10), "Quiet");
        _health.Heard("Quiet");
        // Found again before the first change was judged: NOTIFY reported that one, not this one.
        PollAfter(TimeSpan.FromSeconds(1), "Quiet");
        PollAfter(TimeSpan.FromSeconds(10));
        PollAfter(TimeSpan.FromSeconds(10));
        Assert.That(session.IsCancellationRequested, Is.True);
    }

    [Test]
    public void SessionsThatStayDeaf_AreEachGivenTwiceAsLong_AndTheAdminIsWarnedOnce()
    {
        var lifetimes = new List<TimeSpan>();
        for (var i = 0; i < 4; i++) lifetimes.Add(DeafSessionLifetime());

        Assert.That(lifetimes, Is.EqualTo(new[] { 20, 40, 80, 160 }.Select(s => TimeSpan.FromSeconds(s))));
        Assert.That(_log.Lines.Count(l => l.Contains("on a new connection too", StringComparison.Ordinal)), Is.EqualTo(1), _log.AllText);
    }

    [Test]
    public void AFolderHeardAgain_AfterSessionsLeftItOut_EndsTheLongerTrials()
    {
        DeafSessionLifetime();
        DeafSessionLifetime();
        _health.Connected(CancellationToken.None);
        Assert.That(_health.Deaf, Is.True, "the sessions before were found deaf");
        _health.Heard("Quiet");
        Assert.That(_health.Deaf, Is.False);
        _health.Disconnected(lost: false);

        Assert.That(DeafSessionLifetime(), Is.EqualTo(TimeSpan.FromSeconds(20)));
        Assert.That(_log.AllText, Does.Contain("reports changes in Quiet again"));
    }

    [Test]
    public void ASessionThatHearsOtherFolders_IsNotDeaf_ThoughTheFoldersMissedBeforeStayQuiet()
    {
        DeafSessionLifetime();
        _health.Connected(CancellationToken.None);
        _health.Heard("INBOX");
        Assert.That(_health.Deaf, Is.True, "a deaf Dovecot session still reports INBOX");
        _health.Heard("Sent");
        Assert.That(_health.Deaf, Is.False, "this session reports a folder beyond INBOX");
        _health.Disconnected(lost: false);

        // The backoff is not reset by it: "Quiet", missed before, was not heard.
        Assert.That(DeafSessionLifetime(), Is.EqualTo(TimeSpan.FromSeconds(40)));
    }

    [Test]
    public void AfterASessionWasLost_ThePollerListsOnANewConnection_ForTheNextSessionsFirstTenPolls()
    {
        _health.Connected(CancellationToken.None);
        _health.Disconnected(lost: false);
        Assert.That(_health.PollOnANewConnection(), Is.False, "a session the service ended");

        _health.Connected(CancellationToken.None);
        _health.Disconnected(lost: true);
        var whileReconnecting = Enumerable.Range(0, 5).Select(_ => _health.PollOnANewConnection()).ToList();
        _health.Connected(CancellationToken.None);
        var onNew = Enumerable.Range(0, 12).Select(_ => _health.PollOnANewConnection()).ToList();

        Assert.That(whileReconnecting, Is.All.True);
        Assert.That(onNew, Is.EqualTo(Enumerable.Repeat(true, 10).Concat([false, false])), "polls while no session listened use none up");
        Assert.That(_health.Deaf, Is.False, "a lost session is no deaf one");
    }

    [Test]
    public void ASessionLostWhileSettingNotifyUp_IsALossToo()
    {
        _health.Lost();
        _health.Connected(CancellationToken.None);
        Assert.That(Enumerable.Range(0, 11).Count(_ => _health.PollOnANewConnection()), Is.EqualTo(10));
    }

    [Test]
    public void ASessionThatHeardOtherFolders_ButMissedOne_IsDeafFromTheVerdictOn()
    {
        var session = _health.Connected(CancellationToken.None);
        PollAfter(TimeSpan.Zero);
        _health.Heard("Sent");
        while (!session.IsCancellationRequested) PollAfter(Poll, "Quiet");

        // The watcher has not connected again yet: the poller must not trust its long-lived list meanwhile.
        Assert.That(_health.Deaf, Is.True);
        Assert.That(_health.PollOnANewConnection(), Is.True);
    }

    [Test]
    public void ChangesWhileNoSessionListened_AreNoSessionsFault()
    {
        var first = _health.Connected(CancellationToken.None);
        PollAfter(TimeSpan.Zero);
        _health.Disconnected(lost: true);
        // The watcher waits out its backoff and reconnects: polls go on meanwhile.
        PollAfter(Poll, "Quiet");
        PollAfter(Poll, "Quiet");
        PollAfter(Poll);
        var second = _health.Connected(CancellationToken.None);
        for (var i = 0; i < 6; i++) PollAfter(Poll);
        Assert.That(_health.Deaf, Is.False);
        Assert.That(first.IsCancellationRequested || second.IsCancellationRequested, Is.False);
    }

    /// <summary>A session that hears nothing while every poll finds "Quiet" changed: how long it lasts.</summary>
    private TimeSpan DeafSessionLifetime()
    {
        var session = _health.Connected(CancellationToken.None);
        var began = _time.GetUtcNow();
        _lastPoll = null;
        PollAfter(TimeSpan.Zero);
        while (!session.IsCancellationRequested)
        {
            PollAfter(Poll, "Quiet");
            if (_time.GetUtcNow() - began > TimeSpan.FromHours(2)) Assert.Fail("never replaced");
        }
        _health.Disconnected(lost: false);
        return _time.GetUtcNow() - began;
    }

    private void PollAfter(TimeSpan wait, params string[] changed)
    {
        _time.Advance(wait);
        _health.Polled(changed, _lastPoll);
        _lastPoll = _time.GetUtcNow();
    }
}
