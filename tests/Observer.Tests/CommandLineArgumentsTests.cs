using NUnit.Framework;
using Observer.Cli;

namespace Observer.Tests;

public class CommandLineArgumentsTests
{
    [Test]
    public void Parse_VerbSwitchesAndOverrides()
    {
        var (args, error) = CommandLineArguments.Parse(["verify", "--repair", "--force", "--config", "x.json", "--Primary:Host=mail", "--Replica:Port", "993"]);
        Assert.That(error, Is.Null);
        Assert.That((args!.Verb, args.Repair, args.Force, args.ConfigFile), Is.EqualTo((Verb.Verify, true, true, "x.json")));
        Assert.That(args.Overrides, Is.EqualTo(new[] { "--Primary:Host=mail", "--Replica:Port", "993" }));
    }

    [TestCase(new string[0], "no command")]
    [TestCase(new[] { "launch" }, "unknown command 'launch'")]
    [TestCase(new[] { "--repair" }, "unknown command")]
    [TestCase(new[] { "sync", "--repair" }, "--repair does not apply to sync; see observer --help")]
    [TestCase(new[] { "run", "--verbose" }, "unknown option '--verbose'")]
    [TestCase(new[] { "run", "--config" }, "--config needs a file name")]
    [TestCase(new[] { "verify", "--force" }, "--force only applies with --repair")]
    [TestCase(new[] { "run", "--Primary:Host" }, "has no value")]
    [TestCase(new[] { "approve" }, "approve needs the folders")]
    [TestCase(new[] { "approve", "INBOX", "--all" }, "not both")]
    [TestCase(new[] { "sync", "INBOX" }, "unknown option 'INBOX' for sync")]
    [TestCase(new[] { "sync", "--account" }, "--account needs the name of an account")]
    [TestCase(new[] { "status", "--account", "--full" }, "--account needs the name of an account")]
    [TestCase(new[] { "status", "--account=" }, "--account needs the name of an account")]
    [TestCase(new[] { "run", "--account", "alice" }, "--account does not apply to run")]
    [TestCase(new[] { "run", "--account=alice" }, "--account does not apply to run")]
    [TestCase(new[] { "status", "--all" }, "--all does not apply to status")]
    [TestCase(new[] { "forget" }, "forget needs the one account whose state to delete")]
    [TestCase(new[] { "forget", "alice", "bob" }, "forget needs the one account whose state to delete")]
    [TestCase(new[] { "forget", "--account", "alice" }, "--account does not apply to forget")]
    [TestCase(new[] { "restore" }, "restore needs --from REPLICA")]
    [TestCase(new[] { "restore", "--from" }, "--from needs the name of a replica")]
    [TestCase(new[] { "restore", "--from", "vault", "--since", "yesterday" }, "--since 'yesterday' is not a time; give a date such as 2026-12-01")]
    [TestCase(new[] { "sync", "--from", "vault" }, "--from does not apply to sync")]
    [TestCase(new[] { "run", "--replica", "vault" }, "--replica does not apply to run")]
    [TestCase(new[] { "status", "--replica" }, "--replica needs the name of a replica")]
    [TestCase(new[] { "--version", "--config", "x.json" }, "--version takes nothing more; observer --version")]
    [TestCase(new[] { "promote" }, "promote needs the one server to make the primary: observer promote NAME [--force]")]
    [TestCase(new[] { "promote", "east", "west" }, "promote needs the one server to make the primary")]
    [TestCase(new[] { "promote", "east", "--account", "alice" }, "--account does not apply to promote")]
    [TestCase(new[] { "promote", "east", "--replica", "west" }, "--replica does not apply to promote")]
    [TestCase(new[] { "drain", "--force" }, "--force does not apply to drain")]
    [TestCase(new[] { "drain", "east" }, "unknown option 'east' for drain")]
    [TestCase(new[] { "report" }, "report needs what to report: observer report split-brain")]
    [TestCase(new[] { "report", "lag" }, "report needs what to report: observer report split-brain (not 'lag')")]
    public void Parse_Mistakes_AreOneClearLine(string[] argv, string expected)
    {
        var (args, error) = CommandLineArguments.Parse(argv);
        Assert.That(args, Is.Null);
        Assert.That(error, Does.Contain(expected));
        Assert.That(error, Does.Not.Contain("\n"));
    }

    [TestCase("sync", "--account", "alice")]
    [TestCase("verify", "--account=alice")]
    [TestCase("status", "--account", "alice")]
    [TestCase("approve", "--account", "alice")]
    public void Parse_Account_NamesOneAccount(string verb, params string[] rest)
    {
        string[] argv = verb == "approve" ? [verb, .. rest, "--all"] : [verb, .. rest];
        var (args, error) = CommandLineArguments.Parse(argv);
        Assert.That(error, Is.Null);
        Assert.That(args!.Account, Is.EqualTo("alice"));
        Assert.That(CommandLineArguments.Parse([verb, .. verb == "approve" ? new[] { "--all" } : []]).Arguments!.Account, Is.Null);
    }

    [Test]
    public void Parse_Restore_TakesItsReplicaFolderAndTime()
    {
        var (parsed, error) = CommandLineArguments.Parse(["restore", "--from", "vault", "--folder", "Lists.Dev", "--since", "2026-12-01T08:00+01:00", "--account", "alice"]);
        Assert.That(error, Is.Null);
        Assert.That((parsed!.Verb, parsed.From, parsed.Folder, parsed.Since, parsed.Account),
            Is.EqualTo((Verb.Restore, "vault", "Lists.Dev", (DateTimeOffset?)new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.FromHours(1)), "alice")));
    }

    [Test]
    public async Task Version_PrintsTheVersionAndTheCommit_WithoutSettings()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        Assert.That(await ObserverProgram.RunAsync(["--version"], output, errors), Is.Zero);
        Assert.That(errors.ToString(), Is.Empty);
        Assert.That(output.ToString(), Does.Match(@"^observer \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)\n$"), "built from a git clone, the commit is known");
    }

    [Test]
    public void Parse_Promote_TakesTheServerAndForce()
    {
        var (soft, error) = CommandLineArguments.Parse(["promote", "east"]);
        Assert.That(error, Is.Null);
        Assert.That((soft!.Verb, soft.Promoted, soft.Force, soft.Folders.Count), Is.EqualTo((Verb.Promote, "east", false, 0)));
        Assert.That(CommandLineArguments.Parse(["promote", "--force", "east"]).Arguments!.Force, Is.True);
    }

    [Test]
    public void Parse_ReportAndDrain_TakeAccountAndReplica()
    {
        var (report, error) = CommandLineArguments.Parse(["report", "split-brain", "--replica", "primary", "--account", "alice"]);
        Assert.That(error, Is.Null);
        Assert.That((report!.Verb, report.Replica, report.Account, report.Folders.Count), Is.EqualTo((Verb.Report, "primary", "alice", 0)));
        var (drain, problem) = CommandLineArguments.Parse(["drain", "--replica=east"]);
        Assert.That(problem, Is.Null);
        Assert.That((drain!.Verb, drain.Replica), Is.EqualTo((Verb.Drain, "east")));
    }

    [Test]
    public void Parse_Forget_TakesTheAccount()
    {
        var (args, error) = CommandLineArguments.Parse(["forget", "alice", "--config", "x.json"]);
        Assert.That(error, Is.Null);
        Assert.That((args!.Verb, args.Account, args.Folders.Count), Is.EqualTo((Verb.Forget, "alice", 0)));
    }

    [Test]
    public void Parse_Approve_TakesFolderNamesOrAll()
    {
        var (folders, _) = CommandLineArguments.Parse(["approve", "INBOX", "Old Stuff", "--config", "x.json"]);
        Assert.That((folders!.Verb, folders.All, folders.ConfigFile), Is.EqualTo((Verb.Approve, false, "x.json")));
        Assert.That(folders.Folders, Is.EqualTo(new[] { "INBOX", "Old Stuff" }));
        var (all, _) = CommandLineArguments.Parse(["approve", "--all"]);
        Assert.That((all!.All, all.Folders.Count), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Parse_Help()
    {
        Assert.That(CommandLineArguments.Parse(["--help"]).Arguments!.Verb, Is.EqualTo(Verb.Help));
        Assert.That(CommandLineArguments.Parse(["sync", "-h"]).Arguments!.Verb, Is.EqualTo(Verb.Help));
    }
}
