using Observer.Cli;

return await ObserverProgram.RunAsync(args);
