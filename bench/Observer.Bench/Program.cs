using Observer.Bench;
using Observer.Mail;

const string usage = """
    usage: observer-bench <command> [--key value ...]
      corpus   --profile demo|small|mixed|large [--messages N] [--seed N] --primary-port P --primary-user U --primary-password-file F
      traffic  [--interval seconds] [--count N] --primary-...      act like a mail user on the primary
      mutate   [--count 200] [--seed 42] --primary-...   the incremental phase's seeded mix of changes, once
      lag      [--count N] [--folder INBOX] --primary-... --replica-...   time changes reaching the replica
      soak     [--minutes 10] [--primary dovecot|cyrus|courier] [--replica ...] [--seed N] [--clients 3] [--messages 500]
               [--no-stalls] [--debug] [--log FILE]   the convergence test for longer: churn and faults on a fresh pair, then a full comparison
      compare  [--quick] [--primary dovecot|cyrus|courier] [--corpus small,mixed,large] [--tools observer,...] [--phases initial,noop,incremental,lag,steady,catchup]
               [--runs 3] [--large-runs 1] [--probes 100] [--readme]   Observer and its peers side by side; writes bench/results/
      rawcopy  --primary-... --replica-... [--parallel 3]   the raw FETCH-to-APPEND ceiling (used by compare)
      state    [--accounts 1000] [--folders 20] [--batches 5000] [--writers 4]   one state database for all accounts against one each:
               copy writes from several accounts at once, and recovery with writes left open
    """;

if (args.Length == 0 || args.Any(a => a is "-h" or "--help"))
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    var rest = new BenchArguments(args.Skip(1));
    return args[0] switch
    {
        "corpus" => await CorpusCommand.RunAsync(rest),
        "traffic" => await TrafficCommand.RunAsync(rest),
        "mutate" => await MutateCommand.RunAsync(rest),
        "lag" => await LagCommand.RunAsync(rest),
        "soak" => await SoakCommand.RunAsync(rest),
        "compare" => await CompareCommand.RunAsync(rest),
        "rawcopy" => await RawCopyCommand.RunAsync(rest),
        "state" => await StateLayoutCommand.RunAsync(rest),
        _ => throw new BenchException($"unknown command '{args[0]}'\n{usage}"),
    };
}
catch (Exception ex) when (ex is BenchException or ImapException or IOException)
{
    Console.Error.WriteLine("observer-bench: " + ex.Message);
    return 1;
}
