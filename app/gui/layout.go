package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

func widgetVBox(objs ...fyne.CanvasObject) fyne.CanvasObject { return container.NewVBox(objs...) }
