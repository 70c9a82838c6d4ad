using SparseCircuits.Cli;
using SparseCircuits.Core;

TorchRuntime.PrepareNativeEnvironment(); // before anything can load libtorch
return CircuitsApp.Run(args);
