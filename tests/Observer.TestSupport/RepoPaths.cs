namespace Observer.TestSupport;

public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Observer.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Observer.sln above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string TestServers => Path.Combine(Root, "testservers");
}
