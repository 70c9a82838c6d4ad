using SparseCircuits.Cli;

return CircuitsApp.Run(args);
