// Package model is a trained score model as one value: the network
// (lib/scorenet), the forward process it was trained under (lib/sde) and a
// description of its training data (dimensions of x, of the conditioning y
// and of the sensor mask, a fingerprint of the rows, and free-form data
// information such as scaling and noise). Save/Load keep the three together
// in one model folder; TrainOrResume trains a new model or resumes a saved
// one and refuses to resume with another process, another network or other
// data, naming what differs.
package model
