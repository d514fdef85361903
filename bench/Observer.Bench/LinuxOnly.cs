// The benchmark reads /proc, runs Debian's tools and sets Unix file modes: it is Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
