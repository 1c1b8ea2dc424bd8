using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("OpenVision.Training.Tests")]
