package main

// Monitoring commands; built by the monitoring issue.
var (
	cmdAnalyze   = notYet("analyze")
	cmdInventory = notYet("inventory")
	cmdAlerts    = notYet("alerts")
)
